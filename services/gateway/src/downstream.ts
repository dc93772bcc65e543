import * as grpc from '@grpc/grpc-js';
import type { GRPCInferenceServiceClient, TokenizerClient } from '@maas/protos';
import { GrpcError, isServiceError } from '@maas/shared';
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
 * Runs one downstream call: times it, and names the hop in a failure's message while keeping its status code
 * (a NOT_FOUND or INVALID_ARGUMENT from the tokenizer is one for our caller too; a service that is down
 * already reads UNAVAILABLE from grpc-js).
 */
export async function callHop<T>(hop: Hop, metrics: GatewayMetrics, call: () => Promise<T>): Promise<T> {
  const startedAt = performance.now();
  try {
    return await call();
  } catch (error) {
    if (isServiceError(error)) throw new GrpcError(error.code, `${hop}: ${error.details || error.message}`);
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
  if ((error instanceof GrpcError || isServiceError(error)) && NOT_LOADED.has(error.code)) readiness.markNotReady(ref, error.message);
}
