import * as grpc from '@grpc/grpc-js';
import { cancelled, deadlineExceeded, hasStatus, internal, resourceExhausted } from '@maas/shared';

/** One caller's request as the batch executor sees it. */
export interface QueuedRequest<M> {
  texts: readonly string[];
  /** Whatever the caller attached (its trace context, the version's manifest, ...). */
  meta: M;
  /** The caller's deadline. */
  deadline: Date;
  /** When it was queued (performance.now()): its queue wait is the time from here to its batch's start. */
  enqueuedAt: number;
}

/** What the executor runs as one tokenizer call and one ModelInfer. */
export interface Batch<M> {
  model: string;
  version: string;
  /** Every text of every request, in request order. */
  texts: string[];
  requests: ReadonlyArray<QueuedRequest<M>>;
  /** The latest deadline of its requests: an impatient caller gives up alone, it does not cut the others short. */
  deadline: Date;
  /** Aborted once every caller of the batch has gone away: the executor cancels its downstream calls then. */
  signal: AbortSignal;
}

/**
 * The caller's side of a request, to learn that it went away (cancelled, or past its deadline at the server).
 * A grpc-js server call is one as it is: `cancelled` and the 'cancelled' event.
 */
export interface CallerCancellation {
  readonly cancelled: boolean;
  once(event: 'cancelled', listener: () => void): unknown;
  removeListener(event: 'cancelled', listener: () => void): unknown;
}

/** What the coalescer reports about each dispatched batch (for metrics). */
export interface BatchInfo {
  model: string;
  version: string;
  texts: number;
  requests: number;
  /** Seconds each request of the batch waited in the queue. */
  waitedSeconds: number[];
}

export interface CoalescerOptions<M, R> {
  /**
   * How long a request that finds a free slot waits for others to join its batch; 0 (the default everywhere):
   * not at all beyond the current event-loop turn, so a lone request goes downstream at once, and requests only
   * accumulate while batches are in flight.
   */
  maxDelayMs: number;
  /** Most texts per batch (a single larger request still goes alone, whole: requests are never split). */
  maxBatchTexts: number;
  /** Most texts waiting per (model, version); a request that would exceed it fails RESOURCE_EXHAUSTED. */
  maxQueueTexts: number;
  /** Batches per (model, version) running at once; while all run, requests wait and merge into bigger batches. */
  maxInFlight: number;
  /** Runs one batch; resolves with exactly one result per text of `batch.texts`, in order. */
  execute: (batch: Batch<M>) => Promise<R[]>;
  /**
   * Errors for which a merged batch is re-run request by request, so that a request whose own input a
   * downstream service refuses fails alone instead of failing the others (default: INVALID_ARGUMENT).
   */
  isolate?: (error: unknown) => boolean;
  /** Called for every batch dispatched. */
  onBatch?: (info: BatchInfo) => void;
}

export interface SubmitRequest<M> {
  model: string;
  version: string;
  texts: readonly string[];
  meta: M;
  deadline: Date;
  /**
   * The caller, to learn when it goes away: a waiting request is then dropped from the queue at once, and a
   * dispatched batch whose callers have all gone has its downstream calls cancelled.
   */
  caller?: CallerCancellation;
}

interface Entry<M, R> extends QueuedRequest<M> {
  caller?: CallerCancellation;
  /** Listens for the caller going away, from submit until the request is settled. */
  onGone?: () => void;
  gone: boolean;
  /** The batch it went out in, once dispatched. */
  batch?: InFlight;
  enqueuedAt: number;
  resolve: (results: R[]) => void;
  reject: (error: unknown) => void;
}

/** A dispatched batch: how many of its callers are still there, and the switch that cancels its calls. */
interface InFlight {
  live: number;
  controller: AbortController;
}

interface Queue<M, R> {
  model: string;
  version: string;
  waiting: Array<Entry<M, R>>;
  waitingTexts: number;
  inFlight: number;
  timer?: NodeJS.Timeout | NodeJS.Immediate;
}

const isInvalidArgument = (error: unknown) => hasStatus(error, grpc.status.INVALID_ARGUMENT);

/**
 * Merges concurrent requests for the same (model, version) into batches, so that the two internal hops
 * (tokenizer, inference) are paid once per batch rather than once per request, then splits the answers back.
 * Never waits for the next stage when it is idle: a request that finds a free slot (fewer than maxInFlight
 * batches of its (model, version) downstream) leaves at the end of the current event-loop turn, together with
 * whatever arrived in the same turn (no timer: a turn is microseconds when the process is idle). Requests
 * accumulate only while every slot is busy, and leave as soon as a running batch finishes (or the queue fills
 * a batch), so batches grow with the load instead of with a delay. `maxDelayMs` > 0 brings back a wait for
 * company, for whoever prefers fewer downstream calls to latency.
 */
export class Coalescer<M, R> {
  private readonly queues = new Map<string, Queue<M, R>>();
  private readonly isolate: (error: unknown) => boolean;
  private closedWith: Error | undefined;

  constructor(private readonly options: CoalescerOptions<M, R>) {
    this.isolate = options.isolate ?? isInvalidArgument;
  }

  /** Queues a request; resolves with one result per text, in order. */
  submit(request: SubmitRequest<M>): Promise<R[]> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const key = `${request.model}\u0000${request.version}`;
    let queue = this.queues.get(key);
    if (!queue) {
      queue = { model: request.model, version: request.version, waiting: [], waitingTexts: 0, inFlight: 0 };
      this.queues.set(key, queue);
    }
    if (queue.waitingTexts + request.texts.length > this.options.maxQueueTexts) {
      return Promise.reject(
        resourceExhausted(
          `queue for model ${request.model} version ${request.version} is full (${queue.waitingTexts} texts waiting, limit ${this.options.maxQueueTexts}); retry with backoff`,
        ),
      );
    }
    if (request.caller?.cancelled) return Promise.reject(cancelled('the call was cancelled before it was queued'));
    return new Promise<R[]>((resolve, reject) => {
      const entry: Entry<M, R> = {
        texts: request.texts,
        meta: request.meta,
        deadline: request.deadline,
        gone: false,
        enqueuedAt: performance.now(),
        resolve: (results) => {
          this.stopListening(entry);
          resolve(results);
        },
        reject: (error) => {
          this.stopListening(entry);
          reject(error);
        },
      };
      if (request.caller) {
        entry.caller = request.caller;
        entry.onGone = () => this.callerGone(key, queue, entry);
        request.caller.once('cancelled', entry.onGone);
      }
      queue.waiting.push(entry);
      queue.waitingTexts += request.texts.length;
      this.schedule(key, queue);
    });
  }

  private stopListening(entry: Entry<M, R>): void {
    if (entry.onGone) entry.caller!.removeListener('cancelled', entry.onGone);
    entry.onGone = undefined;
  }

  /**
   * The caller of `entry` went away: while waiting, it leaves the queue now (its texts no longer count against
   * the queue's limit, and no batch carries them); once dispatched, its batch's calls are cancelled when it was
   * the last caller left in it.
   */
  private callerGone(key: string, queue: Queue<M, R>, entry: Entry<M, R>): void {
    entry.onGone = undefined;
    if (entry.gone) return;
    entry.gone = true;
    if (entry.batch) {
      entry.batch.live -= 1;
      if (entry.batch.live === 0) entry.batch.controller.abort();
      return;
    }
    const at = queue.waiting.indexOf(entry);
    if (at < 0) return;
    queue.waiting.splice(at, 1);
    queue.waitingTexts -= entry.texts.length;
    entry.reject(cancelled('the call was cancelled before it was sent downstream'));
    if (queue.waiting.length === 0 && queue.inFlight === 0) {
      this.clearTimer(queue);
      this.queues.delete(key);
    }
  }

  /** Texts waiting (not yet dispatched), per (model, version) queue. */
  queueDepths(): Array<{ model: string; version: string; texts: number }> {
    return [...this.queues.values()].map((queue) => ({ model: queue.model, version: queue.version, texts: queue.waitingTexts }));
  }

  /** Fails every waiting request with `error` and refuses new ones; running batches finish. */
  close(error: Error): void {
    this.closedWith = error;
    for (const queue of this.queues.values()) {
      this.clearTimer(queue);
      for (const entry of queue.waiting) entry.reject(error);
      queue.waiting = [];
      queue.waitingTexts = 0;
    }
  }

  private schedule(key: string, queue: Queue<M, R>): void {
    if (queue.inFlight >= this.options.maxInFlight || queue.waiting.length === 0) return;
    if (queue.waitingTexts >= this.options.maxBatchTexts) {
      this.clearTimer(queue);
      this.dispatchReady(key, queue);
      return;
    }
    if (queue.timer) return;
    const fire = () => {
      queue.timer = undefined;
      this.dispatchReady(key, queue);
    };
    queue.timer = this.options.maxDelayMs > 0 ? setTimeout(fire, this.options.maxDelayMs) : setImmediate(fire);
  }

  private clearTimer(queue: Queue<M, R>): void {
    if (!queue.timer) return;
    // The two kinds must not be mixed up: clearImmediate on a Timeout corrupts Node's immediate bookkeeping.
    if (this.options.maxDelayMs > 0) clearTimeout(queue.timer as NodeJS.Timeout);
    else clearImmediate(queue.timer as NodeJS.Immediate);
    queue.timer = undefined;
  }

  /** Sends batches while there are waiting requests and free slots; whatever cannot go yet stays queued. */
  private dispatchReady(key: string, queue: Queue<M, R>): void {
    while (queue.waiting.length > 0 && queue.inFlight < this.options.maxInFlight) {
      const entries = this.take(queue);
      if (entries.length > 0) void this.run(key, queue, entries);
    }
    if (queue.waiting.length === 0 && queue.inFlight === 0) {
      this.clearTimer(queue);
      this.queues.delete(key);
    }
  }

  /** Takes the next batch off the queue, failing requests whose caller gave up while they waited. */
  private take(queue: Queue<M, R>): Array<Entry<M, R>> {
    const entries: Array<Entry<M, R>> = [];
    let texts = 0;
    const now = Date.now();
    while (queue.waiting.length > 0) {
      const next = queue.waiting[0]!;
      if (entries.length > 0 && texts + next.texts.length > this.options.maxBatchTexts) break;
      queue.waiting.shift();
      queue.waitingTexts -= next.texts.length;
      if (!this.rejectIfGone(next, now)) {
        entries.push(next);
        texts += next.texts.length;
      }
    }
    return entries;
  }

  /** Fails a request whose caller went away or whose deadline passed (nobody's work is spent on it); says whether it did. */
  private rejectIfGone(entry: Entry<M, R>, now: number): boolean {
    if (entry.gone || entry.caller?.cancelled) {
      entry.reject(cancelled('the call was cancelled before it was sent downstream'));
      return true;
    }
    if (entry.deadline.getTime() <= now) {
      entry.reject(deadlineExceeded('deadline exceeded while queued at the gateway'));
      return true;
    }
    return false;
  }

  private async run(key: string, queue: Queue<M, R>, entries: Array<Entry<M, R>>): Promise<void> {
    queue.inFlight += 1;
    const inFlight: InFlight = { live: entries.length, controller: new AbortController() };
    for (const entry of entries) entry.batch = inFlight;
    const now = performance.now();
    this.options.onBatch?.({
      model: queue.model,
      version: queue.version,
      texts: entries.reduce((sum, entry) => sum + entry.texts.length, 0),
      requests: entries.length,
      waitedSeconds: entries.map((entry) => (now - entry.enqueuedAt) / 1000),
    });
    try {
      await this.execute(queue, entries, inFlight.controller.signal);
    } finally {
      queue.inFlight -= 1;
      // Whoever waited for a free slot has waited long enough: send it now rather than start another delay.
      this.clearTimer(queue);
      this.dispatchReady(key, queue);
    }
  }

  /** Runs a batch and settles each of its requests; never rejects. */
  private async execute(queue: Queue<M, R>, entries: Array<Entry<M, R>>, signal: AbortSignal): Promise<void> {
    try {
      const results = await this.options.execute(this.batchOf(queue, entries, signal));
      const expected = entries.reduce((sum, entry) => sum + entry.texts.length, 0);
      if (results.length !== expected) throw internal(`batch answered ${results.length} results for ${expected} texts`);
      let offset = 0;
      for (const entry of entries) {
        entry.resolve(results.slice(offset, offset + entry.texts.length));
        offset += entry.texts.length;
      }
    } catch (error) {
      if (entries.length > 1 && this.isolate(error)) {
        // One request's input may be what was refused: give each its own answer. One after another, inside
        // this batch's slot, so that a refused batch never turns into more concurrent downstream calls than
        // maxInFlight allows; a caller that gave up meanwhile is skipped.
        for (const entry of entries) {
          if (!this.rejectIfGone(entry, Date.now())) await this.execute(queue, [entry], signal);
        }
      } else {
        for (const entry of entries) entry.reject(error);
      }
    }
  }

  private batchOf(queue: Queue<M, R>, entries: Array<Entry<M, R>>, signal: AbortSignal): Batch<M> {
    const texts: string[] = [];
    let deadline = entries[0]!.deadline;
    for (const entry of entries) {
      for (const text of entry.texts) texts.push(text);
      if (entry.deadline > deadline) deadline = entry.deadline;
    }
    return {
      model: queue.model,
      version: queue.version,
      texts,
      requests: entries.map(({ texts: requestTexts, meta, deadline: requestDeadline, enqueuedAt }) => ({
        texts: requestTexts,
        meta,
        deadline: requestDeadline,
        enqueuedAt,
      })),
      deadline,
      signal,
    };
  }
}
