/**
 * Dynamic batching for one (model, version): requests wait in a bounded queue until MAX_BATCH_SIZE rows are
 * waiting or the oldest has waited MAX_QUEUE_DELAY_MS, and a session worker is free; then compatible requests
 * are stacked along dim 0 into one tensor per input, run once, and the outputs are cut back into each
 * request's rows. While every worker is busy the queue keeps filling, so batches grow with load by themselves.
 *
 * Compatible: same trailing shape per input; with padding on, inputs differing only in dims the model declares
 * dynamic are padded with 0 (empty strings for BYTES) to the longest in the batch, and the outputs come back at
 * the padded size. A model whose dim 0 is fixed never batches: each request runs alone.
 *
 * Requests whose deadline passed or whose client cancelled while they waited are dropped before running
 * (DEADLINE_EXCEEDED / CANCELLED); a full queue answers RESOURCE_EXHAUSTED.
 */
import { performance } from 'node:perf_hooks';
import { cancelled, deadlineExceeded, internal, resourceExhausted, unavailable } from '@maas/shared';
import type { HostTensor } from './datatypes.js';
import type { ModelSignature } from './tensor-codec.js';
import { commonTrailingShape, concatRows, type PadSide, splitRows } from './tensor-ops.js';

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
  maxBatchSize: number;
  maxQueueDelayMs: number;
  maxQueueRows: number;
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
}

interface QueuedRequest {
  request: BatchRequest;
  /** Requests with equal keys can share a batch; null: runs alone. */
  key: string | null;
  enqueuedAt: number;
  resolve(outputs: HostTensor[]): void;
  reject(error: unknown): void;
}

export class Batcher {
  private queue: QueuedRequest[] = [];
  private queuedRowCount = 0;
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private closing = false;
  private closed: Promise<void> | undefined;
  private markClosed: (() => void) | undefined;
  private readonly label: string;

  constructor(private readonly options: BatcherOptions) {
    this.label = `model '${options.signature.model}' version '${options.signature.version}'`;
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
      return Promise.reject(
        resourceExhausted(`the queue of ${this.label} is full (${this.queuedRowCount} rows waiting, limit ${maxQueueRows}); retry later`),
      );
    }
    return new Promise<HostTensor[]>((resolve, reject) => {
      this.queue.push({ request, key: this.keyOf(request), enqueuedAt: performance.now(), resolve, reject });
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

  private checkClosed(): void {
    if (this.closing && this.queue.length === 0 && this.running === 0) this.markClosed?.();
  }

  private schedule(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.running < this.options.runner.concurrency && this.queue.length > 0) {
      const head = this.queue[0]!;
      const full = this.queuedRowCount >= this.options.maxBatchSize || head.key === null || this.closing;
      if (!full) {
        const waitLeft = head.enqueuedAt + this.options.maxQueueDelayMs - performance.now();
        if (waitLeft > 0) {
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.schedule();
          }, waitLeft);
          return;
        }
      }
      const batch = this.take();
      if (batch.length > 0) this.dispatch(batch);
    }
    this.checkClosed();
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

  /** Takes the head request and the following compatible ones that fit in one batch (FIFO). */
  private take(): QueuedRequest[] {
    this.purge();
    const head = this.queue[0];
    if (!head) {
      this.options.observer?.queueDepth?.(this.queuedRowCount);
      return [];
    }
    const taken: QueuedRequest[] = [head];
    let rows = head.request.rows;
    if (head.key !== null) {
      for (let i = 1; i < this.queue.length; i++) {
        const item = this.queue[i]!;
        if (item.key !== head.key) continue;
        if (rows + item.request.rows > this.options.maxBatchSize) break;
        taken.push(item);
        rows += item.request.rows;
      }
    }
    const takenSet = new Set(taken);
    this.queue = this.queue.filter((item) => !takenSet.has(item));
    this.queuedRowCount -= rows;
    this.options.observer?.queueDepth?.(this.queuedRowCount);
    return taken;
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
        items.length === 1 && items[0]!.key === null
          ? // A copy: the request's bytes may be a view into gRPC's receive buffer, which must not be transferred.
            items[0]!.request.inputs.map((tensor) => ({ ...tensor, data: new Uint8Array(tensor.data) }))
          : signature.inputs.map((_, index) => {
              const tensors = items.map((item) => item.request.inputs[index]!);
              return concatRows(tensors, commonTrailingShape(tensors), this.options.padSide);
            });
    } catch (error) {
      for (const item of items) item.reject(error);
      return;
    }

    this.running++;
    runner
      .run(inputs, outputNames)
      .then(
        (result) => {
          observer?.batchRun?.({ rows, requests: items.length, computeSeconds: result.computeSeconds });
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
