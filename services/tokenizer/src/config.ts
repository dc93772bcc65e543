import { registryConsumerConfig, type RegistryConsumerConfig } from '@maas/registry-client';
import { availableCpus, configReader, SERVICE_PORTS, serverConfig, type ServerConfig } from '@maas/shared';

/** Everything the tokenizer service reads from its environment. */
export interface TokenizerConfig extends ServerConfig, RegistryConsumerConfig {
  /** MAX_BATCH_TEXTS: most texts one Encode call may carry (INVALID_ARGUMENT above it). */
  maxBatchTexts: number;
  /** MAX_TEXT_BYTES: most UTF-8 bytes one text may have (INVALID_ARGUMENT, naming the text, above it). */
  maxTextBytes: number;
  /**
   * MAX_LOADED_TOKENIZERS: how many (model, version) tokenizers stay in memory. Beyond it the least recently
   * used one that no rollout references is unloaded; versions a rollout references are never unloaded.
   */
  maxLoadedTokenizers: number;
  /** TOKENIZER_IDLE_UNLOAD_MS: a tokenizer no rollout references is unloaded after this long without use. */
  tokenizerIdleUnloadMs: number;
  /** MAX_TOKENIZER_FILE_BYTES: largest tokenizer file accepted from the registry (bounds memory per load). */
  maxTokenizerFileBytes: number;
  /** REGISTRY_TIMEOUT_MS: deadline of each registry call made to load a tokenizer (GetVersion, DownloadArtifact). */
  registryTimeoutMs: number;
  /**
   * ENCODE_WORKERS: worker threads that encode batches of the kinds in ENCODE_WORKER_KINDS, off the event loop.
   * Default: the available CPUs (cgroup quota, else os.availableParallelism()). 0: every kind encodes on the
   * event loop.
   */
  encodeWorkers: number;
  /**
   * ENCODE_WORKER_KINDS: tokenizer kinds encoded in the workers; the others encode on the event loop. Default
   * `huggingface` (milliseconds per batch); Keras word-index encoding costs less than a worker round trip.
   */
  encodeWorkerKinds: string[];
}

/** Tokenizer kinds the service knows. */
const TOKENIZER_KINDS = ['keras', 'huggingface'];

/**
 * Reads and validates the configuration; throws a ConfigError naming every bad variable. `cpus`: what the encode
 * pool is sized from by default (availableCpus()).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cpus: number = availableCpus().cpus): Readonly<TokenizerConfig> {
  const reader = configReader(env);
  const encodeWorkerKinds = reader.list('ENCODE_WORKER_KINDS', { default: ['huggingface'], doc: 'tokenizer kinds encoded in the worker threads' });
  for (const kind of encodeWorkerKinds) {
    if (!TOKENIZER_KINDS.includes(kind))
      reader.problem(`ENCODE_WORKER_KINDS names ${JSON.stringify(kind)}, which is not a tokenizer kind (${TOKENIZER_KINDS.join(', ')})`);
  }
  return reader.done({
    ...serverConfig(reader, SERVICE_PORTS.tokenizer),
    ...registryConsumerConfig(reader),
    maxBatchTexts: reader.int('MAX_BATCH_TEXTS', { default: 256, min: 1, max: 65_536, doc: 'most texts per Encode call' }),
    maxTextBytes: reader.int('MAX_TEXT_BYTES', { default: 16_384, min: 1, max: 1_048_576, doc: 'most UTF-8 bytes per text' }),
    maxLoadedTokenizers: reader.int('MAX_LOADED_TOKENIZERS', {
      default: 32,
      min: 1,
      doc: 'tokenizers kept in memory; least recently used ones no rollout references are unloaded beyond it',
    }),
    tokenizerIdleUnloadMs: reader.int('TOKENIZER_IDLE_UNLOAD_MS', {
      default: 600_000,
      min: 1_000,
      doc: 'unload a tokenizer no rollout references after this long unused',
    }),
    maxTokenizerFileBytes: reader.int('MAX_TOKENIZER_FILE_BYTES', {
      default: 64 * 1024 * 1024,
      min: 1024,
      doc: 'largest tokenizer file accepted from the registry',
    }),
    registryTimeoutMs: reader.int('REGISTRY_TIMEOUT_MS', { default: 10_000, min: 100, doc: 'deadline of each registry call that loads a tokenizer' }),
    encodeWorkers: reader.int('ENCODE_WORKERS', {
      default: Math.max(1, Math.floor(cpus)),
      defaultDoc: '(the CPUs available)',
      min: 0,
      max: 256,
      doc: 'worker threads encoding batches off the event loop (0: none)',
    }),
    encodeWorkerKinds,
  });
}
