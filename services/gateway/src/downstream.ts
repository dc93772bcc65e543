import * as grpc from '@grpc/grpc-js';
import type { GRPCInferenceServiceClient, TokenizerClient } from '@maas/protos';
import { GrpcError, isServiceError, relayError } from '@maas/shared';
import type { GatewayMetrics } from './gateway-metrics.js';
import type { ReadinessTracker } from './readiness.js';
import type { VersionRef } from './router.js';

/** The services the gateway calls per request. */
export interface DownstreamClients {
  tokenizer: TokenizerClient;
  inference: GRPCInferenceServiceClient;
}

export type Hop = 'tokenizer' | 'inference';

/**
 * Runs one downstream call: times it, and passes a failure on under the hop's name with its status code (a
 * NOT_FOUND or INVALID_ARGUMENT from the tokenizer is one for our caller too, as `tokenizer: ...`); a hop that
 * is down reads `tokenizer is unavailable`, not grpc-js's connection error, and a hop's internal error reaches
 * the caller as a generic one (see relayError).
 */
export async function callHop<T>(hop: Hop, metrics: GatewayMetrics, call: () => Promise<T>): Promise<T> {
  const startedAt = performance.now();
  try {
    return await call();
  } catch (error) {
    if (isServiceError(error)) throw relayError(error, hop);
    throw error;
  } finally {
    metrics.downstreamDuration.observe({ hop }, (performance.now() - startedAt) / 1000);
  }
}

/** Status codes with which inference says a version is not (or no longer) loaded. */
const NOT_LOADED = new Set<number>([grpc.status.NOT_FOUND, grpc.status.FAILED_PRECONDITION, grpc.status.UNAVAILABLE]);

/**
 * When inference refuses a version as not loaded (unloaded after a promote the gateway has not seen yet,
 * restarted, ...), stop routing to it until a readiness probe says otherwise.
 */
export function noteInferenceFailure(readiness: ReadinessTracker, ref: VersionRef, error: unknown): void {
  if (!(error instanceof GrpcError || isServiceError(error)) || !NOT_LOADED.has(error.code)) return;
  // The log gets inference's own words, not the generic text its caller may get.
  const reason = isServiceError(error.cause) ? `inference: ${error.cause.details || error.cause.message}` : error.message;
  readiness.markNotReady(ref, reason);
}
