/**
 * Dynamic batching for one (model, version), never waiting while a session worker is idle: a request that
 * finds a free worker is dispatched at the end of the current event-loop turn (so requests that arrived in the
 * same socket read share the batch, at a cost of microseconds, not a timer); requests accumulate only while
 * every worker is busy, and the next free worker takes what accumulated, up to MAX_BATCH_SIZE rows and
 * MAX_BATCH_TOKENS padded positions. So at low load each request runs at once, alone or with whatever came with
 * it, and at high load batches fill by themselves. Compatible requests are stacked along dim 0 into one tensor
 * per input, run once, and the outputs are cut back into each request's rows.
 *
 * One free worker takes as much as fits (for a small model the per-run overhead is what batching saves). When
 * several are free, the queued requests are split across them, balanced by rows (whole requests, in arrival
 * order, each batch within the limits): given to the first free worker, rows that fit in one batch would leave
 * the others idle, which costs a compute-heavy model most of what its extra workers bring.
 *
 * One request can also be cut: when its rows would take at least twice SPLIT_MIN_COMPUTE_MS to compute (from the
 * compute per row measured on this version's batches), its row ranges are queued as requests of their own and
 * the free workers run them side by side; the outputs are stacked back in row order. The gateway merges its
 * callers into one ModelInfer, so without this a compute-heavy model would run that request on one worker while
 * the others idle (measured: encoder-bench at 16 in flight used one of two cores).
 *
 * Token budget (TEI's max_batch_tokens): for a model with dynamic dims besides dim 0 (a sequence length), a
 * batch holds at most MAX_BATCH_TOKENS padded positions: its rows × the product of its dynamic dims, each at the
 * longest request in the batch (padding goes only that far). A model without such dims is limited by rows alone.
 *
 * MAX_QUEUE_DELAY_MS (default 0, off) is the old fixed wait, kept for accelerators where a fuller batch is worth
 * milliseconds of latency: when > 0, a batch that would not fill the free workers waits until its oldest request
 * has waited that long.
 *
 * Compatible: same trailing shape per input; with padding on, inputs differing only in dims the model declares
 * dynamic are padded with 0 (empty strings for BYTES) to the longest in the batch, and the outputs come back at
 * the padded size. A model whose dim 0 is fixed never batches: each request runs alone.
 *
 * Requests whose deadline passed or whose client cancelled while they waited are dropped before running
 * (DEADLINE_EXCEEDED / CANCELLED); a full queue answers RESOURCE_EXHAUSTED.
 */
import { performance } from 'node:perf_hooks';
import {
  cancelled,
  deadlineExceeded,
  inBatchSpan,
  internal,
  recordFinishedSpan,
  resourceExhausted,
  serviceTracer,
  SPAN_ATTRIBUTES,
  type TraceContext,
  unavailable,
} from '@maas/shared';
import type { HostTensor } from './datatypes.js';
import type { ModelSignature } from './tensor-codec.js';
import { commonTrailingShape, concatRows, type PadSide, splitRows } from './tensor-ops.js';

const tracer = serviceTracer('maas-inference');

/** A batch's span: a child of its first recorded request, linked to each one (and each one back to it). */
export const INFERENCE_BATCH_SPAN = 'maas.inference.batch';
/** The session.run of a batch in its worker thread, a child of the batch span. */
export const ONNXRUNTIME_RUN_SPAN = 'onnxruntime.run';

export interface BatchRunResult {
  /** The requested outputs, by name (any order). */
  outputs: HostTensor[];
  /** Time the session spent on the batch. */
  computeSeconds: number;
}

/** Runs batches: a session pool. */
export interface BatchRunner {
  /** How many batches may run at once (free workers). */
  readonly concurrency: number;
  run(inputs: HostTensor[], outputs: string[]): Promise<BatchRunResult>;
}

/** Hooks for metrics; every one optional. */
export interface BatcherObserver {
  queueDepth?(rows: number): void;
  queueWait?(seconds: number): void;
  batchRun?(stats: { rows: number; requests: number; computeSeconds: number }): void;
  dropped?(reason: 'deadline' | 'cancelled'): void;
}

export interface BatcherOptions {
  signature: ModelSignature;
  runner: BatchRunner;
  /** Most rows per batch (MAX_BATCH_SIZE). */
  maxBatchSize: number;
  /**
   * Most padded positions per batch for a model with dynamic non-batch dims (MAX_BATCH_TOKENS): rows × the
   * product of those dims at the batch's longest. 0: no token budget.
   */
  maxBatchTokens: number;
  /** Fixed wait for a batch to fill while workers are free (MAX_QUEUE_DELAY_MS); 0: none. */
  maxQueueDelayMs: number;
  maxQueueRows: number;
  /**
   * Least estimated compute per part when one request's rows are split across workers (SPLIT_MIN_COMPUTE_MS);
   * 0 or absent: never split.
   */
  splitMinComputeMs?: number;
  /** Batch requests that differ only in dynamic dims by padding them (PAD_DYNAMIC_DIMS). */
  padDynamicDims: boolean;
  /** Where padding goes. */
  padSide: PadSide;
  observer?: BatcherObserver;
}

/** One validated request. */
export interface BatchRequest {
  /** One per model input, in signature order. */
  inputs: HostTensor[];
  /** dim 0 of its inputs. */
  rows: number;
  /** The outputs it wants, in the order to return them. */
  outputs: string[];
  /** Epoch milliseconds after which it is dropped instead of run; absent or Infinity for none. */
  deadline?: number;
  /** Whether its client went away. */
  isCancelled?: () => boolean;
  /** The caller's trace context: its batch's span links to it (see @maas/shared request-tracing). */
  traceContext?: TraceContext;
}

interface QueuedRequest {
  request: BatchRequest;
  /** Requests with equal keys can share a batch; null: runs alone. */
  key: string | null;
  /** Per input, the sizes of the dims the model declares dynamic after dim 0 (what padding stretches). */
  lengths: number[][];
  enqueuedAt: number;
  resolve(outputs: HostTensor[]): void;
  reject(error: unknown): void;
}

export class Batcher {
  private queue: QueuedRequest[] = [];
  private queuedRowCount = 0;
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  /** A dispatch is set for the end of this event-loop turn. */
  private dispatchSet = false;
  /** MAX_BATCH_TOKENS when the model has dynamic dims after dim 0, else no token limit. */
  private readonly maxTokens: number;
  private closing = false;
  private closed: Promise<void> | undefined;
  private markClosed: (() => void) | undefined;
  private readonly label: string;
  /**
   * Measured compute, milliseconds, per row and per batch (moving averages over batches); undefined before the
   * first batch. Per row alone would overrate a small model's rows from its 1-row batches (a run's fixed cost
   * divided by one row), so a split also needs its batches to take that long.
   */
  private computeMs: { perRow: number; perBatch: number } | undefined;

  constructor(private readonly options: BatcherOptions) {
    this.label = `model '${options.signature.model}' version '${options.signature.version}'`;
    const hasSequenceDims = options.signature.inputs.some((input) => input.shape.slice(1).some((dim) => dim < 0));
    this.maxTokens = hasSequenceDims && options.maxBatchTokens > 0 ? options.maxBatchTokens : Infinity;
  }

  /** Rows waiting to run. */
  get queuedRows(): number {
    return this.queuedRowCount;
  }

  /** Queues a request; resolves with its outputs in the order it asked for them. */
  submit(request: BatchRequest): Promise<HostTensor[]> {
    if (this.closing) return Promise.reject(unavailable(`${this.label} is being unloaded`));
    const { maxQueueRows } = this.options;
    // An empty queue admits any request, so one larger than the limit is not refused forever.
    if (this.queuedRowCount > 0 && this.queuedRowCount + request.rows > maxQueueRows) {
      return Promise.reject(resourceExhausted(`the queue of ${this.label} is full (${this.queuedRowCount} rows waiting, limit ${maxQueueRows}); retry later`));
    }
    const parts = this.splitParts(request);
    if (parts <= 1) return this.enqueue(request);
    // Row ranges queued as requests of their own: free workers take them side by side (or one takes several, and
    // they are stacked again); the outputs are stacked back in row order.
    const rowCounts = balancedCounts(request.rows, parts);
    const slices = request.inputs.map((tensor) => splitRows(tensor, rowCounts));
    return Promise.all(rowCounts.map((rows, part) => this.enqueue({ ...request, rows, inputs: slices.map((tensorParts) => tensorParts[part]!) }))).then(
      (outputs) =>
        request.outputs.map((_, index) => {
          const pieces = outputs.map((partOutputs) => partOutputs[index]!);
          return concatRows(pieces, commonTrailingShape(pieces), this.options.padSide);
        }),
    );
  }

  /**
   * How many row ranges to cut `request` into: one unless several workers could share it and its estimated
   * compute gives each part at least SPLIT_MIN_COMPUTE_MS (cheap rows are not worth another worker round trip:
   * the classifier's 256 rows take 0.3 ms in all, an encoder's 16 rows 400 ms).
   */
  private splitParts(request: BatchRequest): number {
    const minMs = this.options.splitMinComputeMs ?? 0;
    const workers = this.options.runner.concurrency;
    const measured = this.computeMs;
    if (minMs <= 0 || workers < 2 || request.rows < 2 || !this.options.signature.batchable || !measured || measured.perBatch < 2 * minMs) return 1;
    return Math.min(workers, request.rows, Math.floor((request.rows * measured.perRow) / minMs));
  }

  private enqueue(request: BatchRequest): Promise<HostTensor[]> {
    return new Promise<HostTensor[]>((resolve, reject) => {
      this.queue.push({ request, key: this.keyOf(request), lengths: this.lengthsOf(request), enqueuedAt: performance.now(), resolve, reject });
      this.queuedRowCount += request.rows;
      this.options.observer?.queueDepth?.(this.queuedRowCount);
      this.schedule();
    });
  }

  /** Stops accepting requests; resolves when every queued and running request has finished. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closing = true;
      this.closed = new Promise<void>((resolve) => (this.markClosed = resolve));
      this.schedule();
      this.checkClosed();
    }
    return this.closed;
  }

  private keyOf(request: BatchRequest): string | null {
    if (!this.options.signature.batchable) return null;
    if (this.options.padDynamicDims) return '';
    return request.inputs.map((tensor) => tensor.shape.slice(1).join('x')).join('|');
  }

  private lengthsOf(request: BatchRequest): number[][] {
    return this.options.signature.inputs.map((spec, index) => {
      const shape = request.inputs[index]?.shape ?? [];
      return spec.shape.flatMap((dim, axis) => (axis > 0 && dim < 0 ? [shape[axis] ?? 0] : []));
    });
  }

  private checkClosed(): void {
    if (this.closing && this.queue.length === 0 && this.running === 0) this.markClosed?.();
  }

  /**
   * Sets a dispatch for the end of this event-loop turn when a worker is free: requests that arrive in the same
   * turn (one socket read) join the batch; no timer runs.
   */
  private schedule(): void {
    if (this.dispatchSet) return;
    if (this.queue.length === 0 || this.running >= this.options.runner.concurrency) {
      this.checkClosed();
      return;
    }
    this.dispatchSet = true;
    setImmediate(() => {
      this.dispatchSet = false;
      this.dispatchQueued();
    });
  }

  private dispatchQueued(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.running < this.options.runner.concurrency && this.queue.length > 0) {
      const freeWorkers = this.options.runner.concurrency - this.running;
      const waitLeft = this.waitLeft(freeWorkers);
      if (waitLeft > 0) {
        this.timer = setTimeout(() => this.dispatchQueued(), waitLeft);
        return;
      }
      // All of the split's batches start now.
      for (const batch of this.take(freeWorkers)) this.dispatch(batch);
    }
    this.checkClosed();
  }

  /** With MAX_QUEUE_DELAY_MS > 0: how much longer the head waits for the queue to fill the free workers. */
  private waitLeft(freeWorkers: number): number {
    const head = this.queue[0]!;
    const { maxQueueDelayMs, maxBatchSize } = this.options;
    if (maxQueueDelayMs <= 0 || head.key === null || this.closing || this.queuedRowCount >= freeWorkers * maxBatchSize) return 0;
    return head.enqueuedAt + maxQueueDelayMs - performance.now();
  }

  /** Drops requests nobody waits for any more. */
  private purge(): void {
    const now = Date.now();
    const kept: QueuedRequest[] = [];
    for (const item of this.queue) {
      if (item.request.isCancelled?.()) {
        this.queuedRowCount -= item.request.rows;
        this.options.observer?.dropped?.('cancelled');
        item.reject(cancelled(`the client cancelled the request while it was queued for ${this.label}`));
      } else if (item.request.deadline !== undefined && item.request.deadline <= now) {
        this.queuedRowCount -= item.request.rows;
        this.options.observer?.dropped?.('deadline');
        item.reject(deadlineExceeded(`the deadline passed while the request was queued for ${this.label}`));
      } else {
        kept.push(item);
      }
    }
    this.queue = kept;
  }

  /**
   * Takes the batches to start on `freeWorkers` workers: the head request and the following compatible ones
   * (FIFO), as one batch when one worker is free, else split across the head's share of the free workers.
   */
  private take(freeWorkers: number): QueuedRequest[][] {
    this.purge();
    const head = this.queue[0];
    if (!head) {
      this.options.observer?.queueDepth?.(this.queuedRowCount);
      return [];
    }
    const batches =
      head.key === null
        ? [[head]]
        : balancedBatches(
            this.queue.filter((item) => item.key === head.key),
            { workers: this.workersFor(head.key, freeWorkers), maxRows: this.options.maxBatchSize, maxTokens: this.maxTokens },
          );
    const taken = new Set(batches.flat());
    this.queue = this.queue.filter((item) => !taken.has(item));
    for (const item of taken) this.queuedRowCount -= item.request.rows;
    this.options.observer?.queueDepth?.(this.queuedRowCount);
    return batches;
  }

  /**
   * How many of the free workers the head's requests may use: one is left for each other input shape waiting
   * (only without padding do shapes keep requests apart), so those do not wait behind a split.
   */
  private workersFor(key: string, freeWorkers: number): number {
    if (freeWorkers <= 1) return 1;
    const otherKeys = new Set(this.queue.map((item) => item.key).filter((other) => other !== key));
    return Math.max(1, freeWorkers - otherKeys.size);
  }

  private dispatch(items: QueuedRequest[]): void {
    const { signature, runner, observer } = this.options;
    const startedAt = performance.now();
    for (const item of items) observer?.queueWait?.((startedAt - item.enqueuedAt) / 1000);
    const rowCounts = items.map((item) => item.request.rows);
    const rows = rowCounts.reduce((sum, count) => sum + count, 0);
    const wanted = new Set(items.flatMap((item) => item.request.outputs));
    const outputNames = signature.outputs.map((spec) => spec.name).filter((name) => wanted.has(name));

    let inputs: HostTensor[];
    try {
      inputs =
        items.length === 1
          ? // A copy unless the request owns its buffer (widened ids): its bytes may be a view into gRPC's receive
            // buffer, which must not be transferred. (One request needs no padding: its own shape is the batch's.)
            items[0]!.request.inputs.map((tensor) => (tensor.ownsBuffer ? tensor : { ...tensor, data: new Uint8Array(tensor.data) }))
          : signature.inputs.map((_, index) => {
              const tensors = items.map((item) => item.request.inputs[index]!);
              return concatRows(tensors, commonTrailingShape(tensors), this.options.padSide);
            });
    } catch (error) {
      for (const item of items) item.reject(error);
      return;
    }

    this.running++;
    inBatchSpan(
      {
        tracer,
        name: INFERENCE_BATCH_SPAN,
        requests: items.map((item) => item.request.traceContext),
        attributes: () => ({
          [SPAN_ATTRIBUTES.model]: signature.model,
          [SPAN_ATTRIBUTES.modelVersion]: signature.version,
          [SPAN_ATTRIBUTES.batchRows]: rows,
          [SPAN_ATTRIBUTES.batchRequests]: items.length,
        }),
        annotateRequest: (span, index) =>
          span.setAttributes({
            [SPAN_ATTRIBUTES.queueWaitMs]: startedAt - items[index]!.enqueuedAt,
            [SPAN_ATTRIBUTES.batchRows]: rows,
            [SPAN_ATTRIBUTES.batchRequests]: items.length,
          }),
      },
      async () => {
        const result = await runner.run(inputs, outputNames);
        // The run itself happened in a session worker (no tracer there): recorded here from its measured time.
        recordFinishedSpan({ tracer, name: ONNXRUNTIME_RUN_SPAN, seconds: result.computeSeconds, attributes: () => ({ [SPAN_ATTRIBUTES.batchRows]: rows }) });
        return result;
      },
    )
      .then(
        (result) => {
          observer?.batchRun?.({ rows, requests: items.length, computeSeconds: result.computeSeconds });
          const batchMs = result.computeSeconds * 1000;
          const last = this.computeMs;
          this.computeMs = last
            ? { perRow: 0.8 * last.perRow + (0.2 * batchMs) / rows, perBatch: 0.8 * last.perBatch + 0.2 * batchMs }
            : { perRow: batchMs / rows, perBatch: batchMs };
          this.distribute(items, rowCounts, rows, result.outputs);
        },
        (error: unknown) => {
          for (const item of items) item.reject(error);
        },
      )
      .finally(() => {
        this.running--;
        this.schedule();
      });
  }

  private distribute(items: QueuedRequest[], rowCounts: number[], rows: number, outputs: HostTensor[]): void {
    const byName = new Map(outputs.map((tensor) => [tensor.name, tensor]));
    const parts = new Map<string, HostTensor[]>();
    try {
      for (const [name, tensor] of byName) {
        if (items[0]!.key === null) {
          parts.set(name, [tensor]);
          continue;
        }
        if (tensor.shape[0] !== rows) {
          throw internal(`output '${name}' of ${this.label} has ${tensor.shape[0] ?? 'no'} rows for a batch of ${rows}`);
        }
        parts.set(name, splitRows(tensor, rowCounts));
      }
      items.forEach((item, index) => {
        item.resolve(
          item.request.outputs.map((name) => {
            const part = parts.get(name)?.[index];
            if (!part) throw internal(`${this.label} did not produce output '${name}'`);
            return part;
          }),
        );
      });
    } catch (error) {
      for (const item of items) item.reject(error);
    }
  }
}

/** What balancedBatches needs of a queued request. */
export interface BatchItem {
  request: { rows: number };
  /** Per input, the sizes of its dynamic dims after dim 0; absent: none. */
  lengths?: readonly (readonly number[])[];
}

export interface BatchLimits {
  /** Batches to cut at most (free workers). */
  workers: number;
  /** Most rows per batch. */
  maxRows: number;
  /** Most padded positions per batch (rows × the product of the dynamic dims at their longest); default none. */
  maxTokens?: number;
}

/** The padded positions a batch holds: its rows × the largest product of dynamic dims, each at its longest. */
class PaddedSize {
  private longest: number[][] | undefined;

  /** Positions the batch would hold with `item` added to `rows` rows. */
  tokensWith(rows: number, item: BatchItem): number {
    let widest = 1;
    (item.lengths ?? []).forEach((dims, input) => {
      let product = 1;
      dims.forEach((dim, axis) => (product *= Math.max(dim, this.longest?.[input]?.[axis] ?? 0)));
      widest = Math.max(widest, product);
    });
    return rows * widest;
  }

  add(item: BatchItem): void {
    const lengths = item.lengths ?? [];
    this.longest = lengths.map((dims, input) => dims.map((dim, axis) => Math.max(dim, this.longest?.[input]?.[axis] ?? 0)));
  }
}

/**
 * Cuts compatible queued requests (FIFO) into at most `workers` consecutive batches of whole requests, each at
 * most `maxRows` rows and `maxTokens` padded positions (a lone larger request still forms one), balanced by
 * rows: each batch aims at an equal share of the rows not yet taken, and a request joins while its middle row
 * falls short of that share, so the batch ends as close to it as whole requests allow. With one worker, a batch
 * takes as much as fits. A request that does not fit ends the batch (arrival order is kept, so no request waits
 * behind later ones forever). Requests beyond the last batch stay queued.
 */
export function balancedBatches<T extends BatchItem>(items: readonly T[], limits: BatchLimits): T[][] {
  const maxTokens = limits.maxTokens ?? Infinity;
  const batches: T[][] = [];
  let rowsLeft = items.reduce((sum, item) => sum + item.request.rows, 0);
  let next = 0;
  for (let workers = limits.workers; workers > 0 && next < items.length; workers--) {
    const share = rowsLeft / workers;
    const size = new PaddedSize();
    const batch = [items[next]!];
    let rows = items[next]!.request.rows;
    size.add(items[next]!);
    for (next++; next < items.length; next++) {
      const item = items[next]!;
      const itemRows = item.request.rows;
      if (rows + itemRows > limits.maxRows || (workers > 1 && rows + itemRows / 2 >= share)) break;
      if (size.tokensWith(rows + itemRows, item) > maxTokens) break;
      batch.push(item);
      size.add(item);
      rows += itemRows;
    }
    rowsLeft -= rows;
    batches.push(batch);
  }
  return batches;
}

/** `total` as `parts` counts that differ by at most one, larger first. */
function balancedCounts(total: number, parts: number): number[] {
  const base = Math.floor(total / parts);
  return Array.from({ length: parts }, (_, part) => base + (part < total % parts ? 1 : 0));
}
