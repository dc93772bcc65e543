/**
 * A pool of session workers for one model version: SESSION_WORKERS threads, each with its own
 * InferenceSession on the same file (a pool per version, not shared across versions, so unloading a version
 * is terminating its threads, and a slow model cannot starve another one). Each worker runs one batch at a
 * time; the batcher never has more batches in flight than the pool has workers.
 *
 * The worker script: `session-worker.js` next to this file when running compiled (dist/); when running from
 * source through tsx (tests), `session-worker.ts` next to it, started with tsx's CommonJS hook
 * (`--require tsx/cjs`). Workers get an
 * explicit execArgv, so process-level preloads (the telemetry SDK) are not started again in every thread.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { hiddenInternal, type Logger, unavailable } from '@maas/shared';
import type { HostTensor } from './datatypes.js';
import type { BatchRunner, BatchRunResult } from './batcher.js';
import type { MainToWorker, SessionTensorInfo, SessionWorkerData, WorkerToMain } from './session-protocol.js';

/** Where the worker script is and how to start it (see the file comment). */
export function sessionWorkerEntry(dir: string = __dirname): { file: string; execArgv: string[] } {
  const compiled = path.join(dir, 'session-worker.js');
  if (fs.existsSync(compiled)) return { file: compiled, execArgv: [] };
  const source = path.join(dir, 'session-worker.ts');
  // `--import tsx` does not reach a worker's main script on Node 20 (ERR_UNKNOWN_FILE_EXTENSION); tsx's
  // CommonJS hook, preloaded with --require, does. Resolved here, where tsx is known to be loaded.
  if (fs.existsSync(source)) return { file: source, execArgv: ['--require', require.resolve('tsx/cjs')] };
  throw new Error(`session worker script not found in ${dir}`);
}

export interface SessionPoolOptions {
  /** How the sessions are created (model file, providers, threads). */
  session: SessionWorkerData;
  /** Number of workers. */
  size: number;
  logger: Logger;
  /** Called once when a worker dies unexpectedly (the pool then refuses work; its owner should reload). */
  onBroken?: (reason: string) => void;
}

interface PendingRun {
  resolve(result: BatchRunResult): void;
  reject(error: unknown): void;
}

/** One worker and the batch it runs. */
class SessionWorker {
  pending: { id: number; run: PendingRun } | undefined;
  closing = false;

  constructor(readonly worker: Worker) {}
}

export class SessionPool implements BatchRunner {
  private readonly idle: SessionWorker[] = [];
  private readonly waiting: Array<{ start(worker: SessionWorker): void; reject(error: unknown): void }> = [];
  private nextId = 1;
  private broken: string | undefined;

  private constructor(
    private readonly workers: SessionWorker[],
    /** The provider the sessions use. */
    readonly provider: string,
    /** Inputs and outputs as the session reports them. */
    readonly inputs: SessionTensorInfo[],
    readonly outputs: SessionTensorInfo[],
    private readonly options: SessionPoolOptions,
  ) {
    this.idle.push(...workers);
    for (const worker of workers) this.watch(worker);
  }

  /** Starts the workers and waits until each has created its session; throws when any cannot. */
  static async create(options: SessionPoolOptions): Promise<SessionPool> {
    const entry = sessionWorkerEntry();
    const started = await Promise.allSettled(Array.from({ length: options.size }, () => startWorker(entry, options.session)));
    const failure = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure) {
      await Promise.all(started.map((result) => (result.status === 'fulfilled' ? result.value.worker.worker.terminate() : undefined)));
      throw failure.reason;
    }
    const ready = started.map((result) => (result as PromiseFulfilledResult<Awaited<ReturnType<typeof startWorker>>>).value);
    const first = ready[0]!.ready;
    for (const warning of first.warnings) options.logger.warn({ model: options.session.modelPath }, warning);
    if (first.provider !== (options.session.executionProviders[0] ?? 'cpu')) {
      options.logger.warn(
        { requested: options.session.executionProviders, provider: first.provider },
        `execution provider '${options.session.executionProviders[0]}' is unavailable; running on '${first.provider}'`,
      );
    }
    return new SessionPool(
      ready.map((entry) => entry.worker),
      first.provider,
      first.inputs,
      first.outputs,
      options,
    );
  }

  /** Live workers: how many batches can run at once. */
  get concurrency(): number {
    return Math.max(1, this.workers.length);
  }

  run(inputs: HostTensor[], outputs: string[]): Promise<BatchRunResult> {
    if (this.broken) return Promise.reject(unavailable(this.broken));
    return new Promise<BatchRunResult>((resolve, reject) => {
      const start = (worker: SessionWorker) => {
        const id = this.nextId++;
        worker.pending = { id, run: { resolve, reject } };
        const message: MainToWorker = { type: 'run', id, inputs, outputs };
        worker.worker.postMessage(message, [...new Set(inputs.map((tensor) => tensor.data.buffer as ArrayBuffer))]);
      };
      const worker = this.idle.pop();
      if (worker) start(worker);
      else this.waiting.push({ start, reject });
    });
  }

  /** Lets running batches finish, then releases every session and stops the threads. */
  async close(): Promise<void> {
    this.broken ??= 'the model version is unloaded';
    await Promise.all(
      this.workers.map(async (entry) => {
        entry.closing = true;
        while (entry.pending) await new Promise((resolve) => setTimeout(resolve, 5));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5_000);
          entry.worker.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          entry.worker.postMessage({ type: 'close' } satisfies MainToWorker);
        });
        await entry.worker.terminate();
      }),
    );
  }

  private release(worker: SessionWorker): void {
    const next = this.waiting.shift();
    if (next) next.start(worker);
    else this.idle.push(worker);
  }

  private watch(entry: SessionWorker): void {
    entry.worker.on('message', (message: WorkerToMain) => {
      if ((message.type !== 'result' && message.type !== 'error') || entry.pending?.id !== message.id) return;
      const { run } = entry.pending;
      entry.pending = undefined;
      if (message.type === 'result') run.resolve({ outputs: message.outputs, computeSeconds: message.computeSeconds });
      else run.reject(hiddenInternal(`inference failed: ${message.message}`));
      this.release(entry);
    });
    const died = (reason: string) => {
      if (entry.closing) return;
      entry.closing = true;
      entry.pending?.run.reject(unavailable(`the session worker stopped: ${reason}`));
      entry.pending = undefined;
      const index = this.workers.indexOf(entry);
      if (index >= 0) this.workers.splice(index, 1);
      const idleIndex = this.idle.indexOf(entry);
      if (idleIndex >= 0) this.idle.splice(idleIndex, 1);
      if (!this.broken) {
        this.broken = `a session worker stopped (${reason}); the model version is reloaded on the next resync`;
        this.options.logger.error({ model: this.options.session.modelPath, reason }, 'session worker stopped unexpectedly');
        for (const waiter of this.waiting.splice(0)) waiter.reject(unavailable(this.broken));
        this.options.onBroken?.(reason);
      }
    };
    entry.worker.on('error', (error) => died(error.message));
    entry.worker.on('exit', (code) => died(`exit code ${code}`));
  }
}

async function startWorker(
  entry: { file: string; execArgv: string[] },
  session: SessionWorkerData,
): Promise<{ worker: SessionWorker; ready: Extract<WorkerToMain, { type: 'ready' }> }> {
  const worker = new Worker(entry.file, { workerData: session, execArgv: entry.execArgv });
  return new Promise((resolve, reject) => {
    const onMessage = (message: WorkerToMain) => {
      if (message.type === 'ready') {
        cleanup();
        resolve({ worker: new SessionWorker(worker), ready: message });
      } else if (message.type === 'failed') {
        cleanup();
        void worker.terminate();
        reject(new Error(message.message));
      }
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`session worker exited with code ${code} before its session was ready`));
    };
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
