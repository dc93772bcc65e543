import { registryConsumerConfig, type RegistryConsumerConfig } from '@maas/registry-client';
import { edgeConfig, type EdgeConfig } from './edge-config.js';
import { configReader, defaultServiceAddress, SERVICE_PORTS, serverConfig, type ServerConfig } from '@maas/shared';

/** Everything the gateway reads from its environment. */
export interface GatewayConfig extends ServerConfig, RegistryConsumerConfig, EdgeConfig {
  /** TOKENIZER_ADDRESS: tokenizer service gRPC address (host:port). */
  tokenizerAddress: string;
  /** INFERENCE_ADDRESS: inference service gRPC address (host:port). */
  inferenceAddress: string;
  /** REQUEST_TIMEOUT_MS: deadline given to downstream calls when the caller set none, in milliseconds. */
  requestTimeoutMs: number;
  /** MAX_BATCH_TEXTS: most texts one Classify call may carry (INVALID_ARGUMENT above it). */
  maxBatchTexts: number;
  /** MAX_TEXT_BYTES: longest text accepted, in UTF-8 bytes (INVALID_ARGUMENT above it, naming the text's index). */
  maxTextBytes: number;
  /**
   * COALESCE_MAX_DELAY_MS: how long the first Classify call of a batch waits for others for the same (model,
   * version) to join it, in milliseconds (fractions allowed; 0: only calls arriving in the same event-loop turn).
   */
  coalesceMaxDelayMs: number;
  /** COALESCE_MAX_TEXTS: most texts merged into one tokenizer call and one ModelInfer (keep it within the tokenizer's own limit). */
  coalesceMaxTexts: number;
  /** COALESCE_MAX_IN_FLIGHT: merged batches per (model, version) in flight downstream at once; while all are busy, calls queue and merge. */
  coalesceMaxInFlight: number;
  /** MAX_QUEUE_TEXTS: most texts waiting per (model, version) queue; beyond it Classify answers RESOURCE_EXHAUSTED. At least MAX_BATCH_TEXTS. */
  maxQueueTexts: number;
  /** READINESS_POLL_MS: how often versions a rollout references but inference has not reported ready are asked about again, in milliseconds. */
  readinessPollMs: number;
}

/** Reads and checks the gateway's configuration; throws ConfigError naming every bad variable at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<GatewayConfig> {
  const reader = configReader(env);
  const config: GatewayConfig = {
    ...serverConfig(reader, SERVICE_PORTS.gateway),
    ...registryConsumerConfig(reader),
    ...edgeConfig(reader),
    tokenizerAddress: reader.string('TOKENIZER_ADDRESS', { default: defaultServiceAddress('tokenizer'), doc: 'tokenizer service gRPC address (host:port)' }),
    inferenceAddress: reader.string('INFERENCE_ADDRESS', { default: defaultServiceAddress('inference'), doc: 'inference service gRPC address (host:port)' }),
    requestTimeoutMs: reader.int('REQUEST_TIMEOUT_MS', { default: 10_000, min: 1, doc: 'deadline for downstream calls when the caller set none (ms)' }),
    maxBatchTexts: reader.int('MAX_BATCH_TEXTS', { default: 256, min: 1, doc: 'most texts per Classify call' }),
    maxTextBytes: reader.int('MAX_TEXT_BYTES', { default: 16_384, min: 1, doc: 'longest text accepted, in UTF-8 bytes' }),
    coalesceMaxDelayMs: reader.number('COALESCE_MAX_DELAY_MS', { default: 1, min: 0, max: 1_000, doc: 'how long a Classify call waits for others to share its downstream calls (ms; 0: same event-loop turn)' }),
    coalesceMaxTexts: reader.int('COALESCE_MAX_TEXTS', { default: 256, min: 1, doc: 'most texts merged into one tokenizer call and one ModelInfer' }),
    coalesceMaxInFlight: reader.int('COALESCE_MAX_IN_FLIGHT', { default: 4, min: 1, doc: 'merged batches per (model, version) in flight downstream at once' }),
    maxQueueTexts: reader.int('MAX_QUEUE_TEXTS', { default: 4_096, min: 1, doc: 'most texts waiting per (model, version) queue before RESOURCE_EXHAUSTED' }),
    readinessPollMs: reader.int('READINESS_POLL_MS', { default: 250, min: 50, doc: 'how often versions not ready yet are asked about again (ms)' }),
  };

  // Relations between variables: a call the gateway accepts must fit in its queue.
  if (config.maxQueueTexts < config.maxBatchTexts) {
    reader.problem(`MAX_QUEUE_TEXTS=${config.maxQueueTexts} is below MAX_BATCH_TEXTS=${config.maxBatchTexts}: a full Classify call could never be queued`);
  }
  return reader.done(config);
}
