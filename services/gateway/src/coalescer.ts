import * as grpc from '@grpc/grpc-js';
import { cancelled, deadlineExceeded, hasStatus, internal, resourceExhausted } from '@maas/shared';

/** One caller's request as the batch executor sees it. */
export interface QueuedRequest<M> {
  texts: readonly string[];
  /** Whatever the caller attached (its trace context, the version's manifest, ...). */
  meta: M;
  /** The caller's deadline. */
  deadline: Date;
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
  /** How long the first request of a batch waits for others; 0 gathers what arrives in the same event-loop turn. */
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
  /** Whether the caller went away (checked before dispatch, so nobody's work is spent on it). */
  isCancelled?: () => boolean;
}

interface Entry<M, R> extends QueuedRequest<M> {
  isCancelled?: () => boolean;
  enqueuedAt: number;
  resolve: (results: R[]) => void;
  reject: (error: unknown) => void;
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
 * A batch leaves when it is full, when the first request in it has waited `maxDelayMs`, or as soon as a
 * running batch finishes and frees a slot.
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
        resourceExhausted(`queue for model ${request.model} version ${request.version} is full (${queue.waitingTexts} texts waiting, limit ${this.options.maxQueueTexts}); retry with backoff`),
      );
    }
    return new Promise<R[]>((resolve, reject) => {
      queue.waiting.push({
        texts: request.texts,
        meta: request.meta,
        deadline: request.deadline,
        isCancelled: request.isCancelled,
        enqueuedAt: performance.now(),
        resolve,
        reject,
      });
      queue.waitingTexts += request.texts.length;
      this.schedule(key, queue);
    });
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
    if (entry.isCancelled?.()) {
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
    const now = performance.now();
    this.options.onBatch?.({
      model: queue.model,
      version: queue.version,
      texts: entries.reduce((sum, entry) => sum + entry.texts.length, 0),
      requests: entries.length,
      waitedSeconds: entries.map((entry) => (now - entry.enqueuedAt) / 1000),
    });
    try {
      await this.execute(queue, entries);
    } finally {
      queue.inFlight -= 1;
      // Whoever waited for a free slot has waited long enough: send it now rather than start another delay.
      this.clearTimer(queue);
      this.dispatchReady(key, queue);
    }
  }

  /** Runs a batch and settles each of its requests; never rejects. */
  private async execute(queue: Queue<M, R>, entries: Array<Entry<M, R>>): Promise<void> {
    try {
      const results = await this.options.execute(this.batchOf(queue, entries));
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
          if (!this.rejectIfGone(entry, Date.now())) await this.execute(queue, [entry]);
        }
      } else {
        for (const entry of entries) entry.reject(error);
      }
    }
  }

  private batchOf(queue: Queue<M, R>, entries: Array<Entry<M, R>>): Batch<M> {
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
      requests: entries.map(({ texts: requestTexts, meta, deadline: requestDeadline }) => ({ texts: requestTexts, meta, deadline: requestDeadline })),
      deadline,
    };
  }
}
