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
   * COALESCE_MAX_DELAY_MS: how long a Classify call that finds a free downstream slot waits for others for the
   * same (model, version) to join it, in milliseconds (fractions allowed). 0, the default: no wait beyond the
   * current event-loop turn; calls then merge only while every slot is busy, which costs nothing at low load
   * and fills batches at high load. Above 0 it trades latency for fewer downstream calls.
   */
  coalesceMaxDelayMs: number;
  /** COALESCE_MAX_TEXTS: most texts merged into one tokenizer call and one ModelInfer (keep it within the tokenizer's own limit). */
  coalesceMaxTexts: number;
  /** COALESCE_MAX_IN_FLIGHT: merged batches per (model, version) in flight downstream at once; while all are busy, calls queue and merge. */
  coalesceMaxInFlight: number;
  /** MAX_QUEUE_TEXTS: most texts waiting per (model, version) queue; beyond it Classify answers RESOURCE_EXHAUSTED. At least MAX_BATCH_TEXTS. */
  maxQueueTexts: number;
  /**
   * MAX_INFER_REQUEST_BYTES: largest OIP ModelInfer request the gateway accepts (RESOURCE_EXHAUSTED above it):
   * its gRPC receive limit for that method. Classify's comes from MAX_BATCH_TEXTS × MAX_TEXT_BYTES.
   */
  maxInferRequestBytes: number;
  /** READINESS_POLL_MS: how often versions a rollout references but inference has not reported ready are asked about again, in milliseconds. */
  readinessPollMs: number;
  /** MIRROR_TIMEOUT_MS: deadline of one mirrored (shadow) call to a canary, in milliseconds. */
  mirrorTimeoutMs: number;
  /** MIRROR_MAX_IN_FLIGHT: most mirrored calls in flight at once; beyond it a mirror is dropped, never queued. */
  mirrorMaxInFlight: number;
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
    coalesceMaxDelayMs: reader.number('COALESCE_MAX_DELAY_MS', {
      default: 0,
      min: 0,
      max: 1_000,
      doc: 'how long a Classify call that finds a free slot waits for others to share its downstream calls (ms; 0: no wait)',
    }),
    coalesceMaxTexts: reader.int('COALESCE_MAX_TEXTS', { default: 256, min: 1, doc: 'most texts merged into one tokenizer call and one ModelInfer' }),
    coalesceMaxInFlight: reader.int('COALESCE_MAX_IN_FLIGHT', { default: 4, min: 1, doc: 'merged batches per (model, version) in flight downstream at once' }),
    maxQueueTexts: reader.int('MAX_QUEUE_TEXTS', { default: 4_096, min: 1, doc: 'most texts waiting per (model, version) queue before RESOURCE_EXHAUSTED' }),
    maxInferRequestBytes: reader.int('MAX_INFER_REQUEST_BYTES', {
      default: 16 * 1024 * 1024,
      min: 1024,
      doc: 'largest OIP ModelInfer request accepted, in bytes',
    }),
    readinessPollMs: reader.int('READINESS_POLL_MS', { default: 250, min: 50, doc: 'how often versions not ready yet are asked about again (ms)' }),
    mirrorTimeoutMs: reader.int('MIRROR_TIMEOUT_MS', { default: 2_000, min: 1, doc: 'deadline of one mirrored (shadow) call to a canary (ms)' }),
    mirrorMaxInFlight: reader.int('MIRROR_MAX_IN_FLIGHT', { default: 32, min: 1, doc: 'most mirrored calls in flight at once; beyond it mirrors are dropped' }),
  };

  // Relations between variables: a call the gateway accepts must fit in its queue.
  if (config.maxQueueTexts < config.maxBatchTexts) {
    reader.problem(`MAX_QUEUE_TEXTS=${config.maxQueueTexts} is below MAX_BATCH_TEXTS=${config.maxBatchTexts}: a full Classify call could never be queued`);
  }
  return reader.done(config);
}
