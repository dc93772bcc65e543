import { registryConsumerConfig, type RegistryConsumerConfig } from '@maas/registry-client';
import { availableCpus, configReader, SERVICE_PORTS, serverConfig, type ServerConfig } from '@maas/shared';

/** Graph optimization levels ONNX Runtime accepts. */
export const GRAPH_OPTIMIZATION_LEVELS = ['disabled', 'basic', 'extended', 'all'] as const;
export type GraphOptimizationLevel = (typeof GRAPH_OPTIMIZATION_LEVELS)[number];

/** Everything the inference service reads from its environment. */
export interface InferenceConfig extends ServerConfig, RegistryConsumerConfig {
  /**
   * EXECUTION_PROVIDERS: ONNX Runtime execution providers to try, in order (e.g. `cuda,cpu`). A session is
   * created with the first one that works (later ones in the list serve as its fallback for unsupported
   * nodes); a provider that fails is logged as a warning and the next is tried, CPU last of all.
   */
  executionProviders: string[];
  /**
   * INTRA_OP_THREADS: threads ONNX Runtime uses inside one operator, per session (0: ONNX Runtime's default, one
   * per core). Default: the available CPUs divided among SESSION_WORKERS (see sessionSizing).
   */
  intraOpThreads: number;
  /** INTER_OP_THREADS: threads running independent operators in parallel, per session (0: ONNX Runtime's default). */
  interOpThreads: number;
  /**
   * THREAD_SPINNING: whether ONNX Runtime's intra- and inter-op threads spin while they wait for work (its own
   * default) instead of sleeping. Off by default: the service shares its CPUs with its own gRPC thread, and with
   * `npm start` with the other services, and spinning threads take CPU they need (measured on 2 busy cores,
   * encoder-bench with 2 intra-op threads: 17–19 ms of CPU per row spinning, 12.0–12.5 ms not, and 32–38 vs
   * 57–78 rows/s). Only matters when a session has more than one thread.
   */
  threadSpinning: boolean;
  /** GRAPH_OPTIMIZATION_LEVEL: ONNX Runtime graph optimizations applied when a session is created. */
  graphOptimizationLevel: GraphOptimizationLevel;
  /**
   * SESSION_WORKERS: worker threads (each with its own session, so its own copy of the weights) per loaded
   * model version. Batches of one version run on its workers in parallel, one batch per worker at a time.
   * Default: sized from the available CPUs (cgroup quota or os.availableParallelism(), see sessionSizing), so
   * that SESSION_WORKERS × INTRA_OP_THREADS never exceeds them.
   */
  sessionWorkers: number;
  /** MODEL_CACHE_DIR: directory where downloaded ONNX files are kept, named by their sha256. */
  modelCacheDir: string;
  /** MAX_BATCH_SIZE: most rows the batcher puts in one session run (a single larger request still runs, alone). */
  maxBatchSize: number;
  /**
   * MAX_BATCH_TOKENS: for a model with dynamic dims after dim 0 (a sequence length), most padded positions per
   * batch: rows × those dims at the batch's longest (TEI's max_batch_tokens). 0: rows alone limit a batch.
   */
  maxBatchTokens: number;
  /**
   * MAX_QUEUE_DELAY_MS: fixed wait for more requests to join a batch while a worker is free (0, the default: none;
   * a request that finds a free worker runs at once, and batches form from what queues while workers are busy).
   */
  maxQueueDelayMs: number;
  /** MAX_QUEUE_ROWS: most rows waiting per (model, version) queue; beyond it requests get RESOURCE_EXHAUSTED. */
  maxQueueRows: number;
  /**
   * SPLIT_MIN_COMPUTE_MS: a request whose rows would take at least twice this to compute (estimated from the
   * version's measured compute per row) is cut into row ranges of at least this much each, run on as many
   * session workers at once (0: never split). A compute-heavy model then uses every worker even when the gateway
   * merged its callers into one request.
   */
  splitMinComputeMs: number;
  /** MAX_TENSOR_BYTES: largest single input tensor accepted (INVALID_ARGUMENT above it). */
  maxTensorBytes: number;
  /**
   * PAD_DYNAMIC_DIMS: batch requests whose inputs differ only in dimensions the model declares dynamic (-1) by
   * padding them with 0 to the longest in the batch (on the side the manifest's tokenizer pads, else the end).
   * Outputs come back at the padded size. When false such requests run in separate batches.
   */
  padDynamicDims: boolean;
  /**
   * MODEL_RETRY_BACKOFF_MS: a version that failed to load is retried on the first registry resync at least this
   * long after the failure (so a broken package is not re-fetched and re-created on every event or tick).
   */
  modelRetryBackoffMs: number;
  /**
   * UNLOAD_DRAIN_MS: how long a loaded version no rollout references any more keeps serving after its model's
   * new stable version is ready, before it is unloaded (until that version is ready it is kept anyway, so a
   * promote or rollback to a version still loading never leaves the model without a ready version). It covers
   * gateways that learn of the switch late (by event, or by resync when NATS is down) and calls in flight; a
   * gateway that missed the event learns at its next resync (RESYNC_INTERVAL_MS), so keep it at least that long.
   */
  unloadDrainMs: number;
  /** REGISTRY_TIMEOUT_MS: deadline of a registry call that reads a version's manifest. */
  registryTimeoutMs: number;
  /** MODEL_DOWNLOAD_TIMEOUT_MS: deadline of one model file download from the registry. */
  modelDownloadTimeoutMs: number;
}

/**
 * Most session workers the default sizing makes: each holds its own copy of the weights, so beyond this many
 * CPUs the extra cores become ONNX Runtime threads of these workers instead of more copies.
 */
const MAX_DEFAULT_SESSION_WORKERS = 4;

/**
 * Default session workers × ORT threads for `cpus` available CPUs, never more threads than CPUs: one single-
 * threaded session per CPU, up to MAX_DEFAULT_SESSION_WORKERS (then more threads per session). Measured on 2 cores with encoder-bench (bench/README.md): 2 workers × 1 thread and
 * 1 worker × 2 threads serve about the same rows/s when enough rows wait, but separate single-threaded sessions
 * need no ONNX Runtime thread pool, whose spinning threads take CPU from the gRPC thread and the other services
 * of the mesh, and a small model gains nothing from intra-op threads. An explicit SESSION_WORKERS or
 * INTRA_OP_THREADS is respected and the other one sized around it (INTRA_OP_THREADS=0, ONNX Runtime's own choice
 * of a thread per core, leaves one worker).
 */
export function sessionSizing(cpus: number, set: { sessionWorkers?: number; intraOpThreads?: number }): { sessionWorkers: number; intraOpThreads: number } {
  const whole = Math.max(1, Math.floor(cpus));
  if (set.sessionWorkers !== undefined && set.intraOpThreads !== undefined) return { sessionWorkers: set.sessionWorkers, intraOpThreads: set.intraOpThreads };
  if (set.sessionWorkers !== undefined) return { sessionWorkers: set.sessionWorkers, intraOpThreads: Math.max(1, Math.floor(whole / set.sessionWorkers)) };
  if (set.intraOpThreads !== undefined) {
    const workers = set.intraOpThreads === 0 ? 1 : Math.floor(whole / set.intraOpThreads);
    return { sessionWorkers: Math.min(MAX_DEFAULT_SESSION_WORKERS, Math.max(1, workers)), intraOpThreads: set.intraOpThreads };
  }
  const sessionWorkers = Math.min(whole, MAX_DEFAULT_SESSION_WORKERS);
  return { sessionWorkers, intraOpThreads: Math.floor(whole / sessionWorkers) };
}

/**
 * Reads and validates the configuration; throws a ConfigError naming every bad variable. `cpus`: what pools are
 * sized from by default (availableCpus(): the cgroup quota, else os.availableParallelism()).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cpus: number = availableCpus().cpus): Readonly<InferenceConfig> {
  const reader = configReader(env);
  // Unset is told apart by a default no valid setting can have (the range applies to set values only): the
  // sizing then comes from the CPUs, around whichever of the two is set.
  const UNSET = -1;
  const workers = reader.int('SESSION_WORKERS', {
    default: UNSET,
    defaultDoc: '(from the CPUs available)',
    min: 1,
    max: 64,
    doc: 'worker threads (sessions) per loaded model version',
  });
  const threads = reader.int('INTRA_OP_THREADS', {
    default: UNSET,
    defaultDoc: '(from the CPUs available)',
    min: 0,
    max: 1024,
    doc: 'ONNX Runtime intra-op threads per session (0: its default, a thread per core)',
  });
  const sizing = sessionSizing(cpus, { sessionWorkers: workers === UNSET ? undefined : workers, intraOpThreads: threads === UNSET ? undefined : threads });
  return reader.done({
    ...serverConfig(reader, SERVICE_PORTS.inference),
    ...registryConsumerConfig(reader),
    executionProviders: reader.list('EXECUTION_PROVIDERS', { default: ['cpu'], doc: 'ONNX Runtime execution providers to try, in order, e.g. cuda,cpu' }),
    intraOpThreads: sizing.intraOpThreads,
    interOpThreads: reader.int('INTER_OP_THREADS', { default: 1, min: 0, max: 1024, doc: 'ONNX Runtime inter-op threads per session (0: its default)' }),
    threadSpinning: reader.bool('THREAD_SPINNING', { default: false, doc: 'ONNX Runtime threads spin while waiting for work' }),
    graphOptimizationLevel: reader.oneOf('GRAPH_OPTIMIZATION_LEVEL', GRAPH_OPTIMIZATION_LEVELS, {
      default: 'all',
      doc: 'ONNX Runtime graph optimization level',
    }),
    sessionWorkers: sizing.sessionWorkers,
    modelCacheDir: reader.string('MODEL_CACHE_DIR', { default: '.maas/inference-cache', doc: 'directory of downloaded ONNX files, named by sha256' }),
    maxBatchSize: reader.int('MAX_BATCH_SIZE', { default: 64, min: 1, max: 65_536, doc: 'most rows per session run' }),
    maxBatchTokens: reader.int('MAX_BATCH_TOKENS', {
      default: 16_384,
      min: 0,
      doc: 'most padded positions per batch for models with a dynamic sequence dim (0: no limit)',
    }),
    maxQueueDelayMs: reader.number('MAX_QUEUE_DELAY_MS', {
      default: 0,
      min: 0,
      max: 10_000,
      doc: 'fixed wait for a batch to fill while a worker is free (0: none)',
    }),
    maxQueueRows: reader.int('MAX_QUEUE_ROWS', { default: 4096, min: 1, doc: 'most rows queued per model version before RESOURCE_EXHAUSTED' }),
    splitMinComputeMs: reader.number('SPLIT_MIN_COMPUTE_MS', {
      default: 2,
      min: 0,
      max: 60_000,
      doc: "least estimated compute per part when one request's rows are split across session workers (0: never split)",
    }),
    maxTensorBytes: reader.int('MAX_TENSOR_BYTES', { default: 64 * 1024 * 1024, min: 1, doc: 'largest input tensor accepted, in bytes' }),
    padDynamicDims: reader.bool('PAD_DYNAMIC_DIMS', { default: true, doc: 'batch requests differing in dynamic dims by padding with 0' }),
    modelRetryBackoffMs: reader.int('MODEL_RETRY_BACKOFF_MS', { default: 5_000, min: 0, doc: 'least wait before a failed model load is retried' }),
    unloadDrainMs: reader.int('UNLOAD_DRAIN_MS', {
      default: 60_000,
      min: 0,
      doc: 'how long a version no rollout references keeps serving after the new stable version is ready, before it is unloaded (ms)',
    }),
    registryTimeoutMs: reader.int('REGISTRY_TIMEOUT_MS', { default: 10_000, min: 100, doc: 'deadline of a registry call reading a manifest' }),
    modelDownloadTimeoutMs: reader.int('MODEL_DOWNLOAD_TIMEOUT_MS', { default: 300_000, min: 1_000, doc: 'deadline of one model file download' }),
  });
}
