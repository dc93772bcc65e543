/** Messages between the main thread and a session worker (see session-worker.ts). Types only. */
import type { HostTensor } from './datatypes.js';
import type { GraphOptimizationLevel } from './config.js';

/** What a worker is started with. */
export interface SessionWorkerData {
  /** ONNX file to load. */
  modelPath: string;
  /** Execution providers to try, in order (CPU is tried last even when absent). */
  executionProviders: string[];
  /** 0: ONNX Runtime's default. */
  intraOpThreads: number;
  /** 0: ONNX Runtime's default. */
  interOpThreads: number;
  /** Whether ONNX Runtime's thread pools spin while waiting (THREAD_SPINNING). */
  threadSpinning: boolean;
  graphOptimizationLevel: GraphOptimizationLevel;
}

/** An input or output as the session reports it: onnxruntime type name, dims (symbolic ones as strings). */
export interface SessionTensorInfo {
  name: string;
  type: string;
  shape: (number | string)[];
}

export type MainToWorker =
  /** Run one batch; the inputs' buffers are transferred. */
  | { type: 'run'; id: number; inputs: HostTensor[]; outputs: string[] }
  /** Release the session and stop. */
  | { type: 'close' };

export type WorkerToMain =
  /** The session is created. `warnings`: providers that failed before `provider` worked. */
  | { type: 'ready'; provider: string; warnings: string[]; inputs: SessionTensorInfo[]; outputs: SessionTensorInfo[] }
  /** The session could not be created with any provider. */
  | { type: 'failed'; message: string; warnings: string[] }
  /** A batch's outputs (buffers transferred) and the time session.run took. */
  | { type: 'result'; id: number; outputs: HostTensor[]; computeSeconds: number }
  /** A batch failed. */
  | { type: 'error'; id: number; message: string }
  /** The session is released. */
  | { type: 'closed' };
