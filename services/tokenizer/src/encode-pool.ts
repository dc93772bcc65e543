/**
 * A pool of encode workers (worker_threads) for the tokenizers whose encoding is too slow for the event loop
 * (Hugging Face tokenizer.json: ~18 µs per short text, so ~5 ms per 256-text call, all synchronous). The main
 * thread only moves bytes: texts go out as strings, the batch's tensors come back as one transferred
 * ArrayBuffer that becomes the response's raw_contents without a copy.
 *
 * Every worker holds every registered tokenizer (built from the file text at registration), so any worker can
 * take any batch: a batch goes to the worker with the fewest batches in flight. A worker that dies fails its
 * batches (UNAVAILABLE) and is replaced, with the registered tokenizers sent again.
 *
 * The worker script: `encode-worker.js` next to this file (dist/); from source through tsx (tests) the `.ts`,
 * started with tsx's CommonJS hook (an explicit execArgv also keeps the telemetry preload out of the workers).
 */
import { Worker } from 'node:worker_threads';
import { internal, type Logger, unavailable } from '@maas/shared';
import type { EncodedBatch, EncodingLayout } from './encoder.js';
import type { EncodeWorkerToMain, MainToEncodeWorker } from './encode-protocol.js';

/** An encoded batch and the time its encoding took inside the worker. */
export type TimedBatch = EncodedBatch & { seconds: number };

export interface EncodePoolOptions {
  /** Number of workers (at least 1). */
  size: number;
  logger: Logger;
}

interface Pending {
  resolve(batch: TimedBatch): void;
  reject(error: unknown): void;
}

class EncodeWorker {
  readonly pending = new Map<number, Pending>();

  constructor(readonly thread: Worker) {}
}

/**
 * Young-generation size of each worker's V8 heap. Tokenizing allocates many short-lived strings and arrays, and
 * a worker's default young generation is small: measured with 256-text WordPiece batches, the pool's CPU per
 * text went from 13–16 µs with the default to 11.4–12.4 µs with 64 MB (32 MB: 12–14 µs; 128 MB: 11.2–11.4 µs;
 * encoding on the main thread: 10–11.5 µs), i.e. most of the worker's overhead was scavenges.
 */
const WORKER_YOUNG_GENERATION_MB = 64;

/** How the worker script is found and started (see the file comment). */
function workerScript(): { file: string; execArgv: string[] } {
  const file = require.resolve('./encode-worker');
  return { file, execArgv: file.endsWith('.ts') ? ['--require', require.resolve('tsx/cjs')] : [] };
}

export class EncodePool {
  private readonly workers: EncodeWorker[] = [];
  private readonly registered = new Map<number, Extract<MainToEncodeWorker, { type: 'load' }>>();
  private nextHandle = 1;
  private nextId = 1;
  private closed = false;
  private readonly script = workerScript();

  /** The workers start with the first registered tokenizer, so a service that never loads one pays no threads. */
  constructor(private readonly options: EncodePoolOptions) {}

  /** Workers the pool runs once a tokenizer is registered. */
  get size(): number {
    return Math.max(1, this.options.size);
  }

  /** Builds a tokenizer in every worker; returns its handle. The file text must be one the main thread loaded. */
  register(spec: { kind: string; fileText: string; layout: EncodingLayout }): number {
    if (this.workers.length === 0 && !this.closed) for (let index = 0; index < this.size; index++) this.workers.push(this.spawn());
    const message = { type: 'load' as const, handle: this.nextHandle++, ...spec };
    this.registered.set(message.handle, message);
    for (const worker of this.workers) worker.thread.postMessage(message);
    return message.handle;
  }

  unregister(handle: number): void {
    if (!this.registered.delete(handle)) return;
    for (const worker of this.workers) worker.thread.postMessage({ type: 'unload', handle } satisfies MainToEncodeWorker);
  }

  /** Encodes on the least busy worker. */
  encode(handle: number, texts: string[], options: { narrowIntegers?: boolean } = {}): Promise<TimedBatch> {
    if (this.closed) return Promise.reject(unavailable('the tokenizer service is stopping'));
    let worker = this.workers[0];
    if (!worker) return Promise.reject(internal('the tokenizer is not registered in the encode pool'));
    for (const candidate of this.workers) if (candidate.pending.size < worker.pending.size) worker = candidate;
    const id = this.nextId++;
    return new Promise<TimedBatch>((resolve, reject) => {
      worker.pending.set(id, { resolve, reject });
      worker.thread.postMessage({ type: 'encode', id, handle, texts, narrowIntegers: options.narrowIntegers === true } satisfies MainToEncodeWorker);
    });
  }

  /** Fails what is in flight and stops the workers. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.workers.map((worker) => {
        this.fail(worker, unavailable('the tokenizer service is stopping'));
        return worker.thread.terminate();
      }),
    );
  }

  private spawn(): EncodeWorker {
    const worker = new EncodeWorker(
      new Worker(this.script.file, { execArgv: this.script.execArgv, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } }),
    );
    worker.thread.on('message', (message: EncodeWorkerToMain) => {
      const pending = worker.pending.get(message.id);
      if (!pending) return;
      worker.pending.delete(message.id);
      if (message.type === 'failed') {
        pending.reject(internal(`encoding failed: ${message.message}`));
        return;
      }
      pending.resolve({
        tensors: message.tensors.map((tensor) => ({
          name: tensor.name,
          datatype: tensor.datatype,
          shape: tensor.shape,
          raw_contents: Buffer.from(message.buffer, tensor.byteOffset, tensor.byteLength),
        })),
        tokenCounts: message.tokenCounts,
        truncated: message.truncated,
        seconds: message.seconds,
      });
    });
    const died = (reason: string) => {
      if (this.closed) return;
      const index = this.workers.indexOf(worker);
      if (index < 0) return;
      this.options.logger.error({ reason }, 'encode worker stopped unexpectedly; starting a new one');
      this.fail(worker, unavailable(`the encode worker stopped (${reason}); retry`));
      const replacement = this.spawn();
      for (const message of this.registered.values()) replacement.thread.postMessage(message);
      this.workers[index] = replacement;
    };
    worker.thread.on('error', (error) => died(error.message));
    worker.thread.on('exit', (code) => died(`exit code ${code}`));
    return worker;
  }

  private fail(worker: EncodeWorker, error: Error): void {
    for (const pending of worker.pending.values()) pending.reject(error);
    worker.pending.clear();
  }
}
