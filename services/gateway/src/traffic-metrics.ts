import { Status } from '@maas/protos';
import { toStatusObject } from '@maas/shared';
import { UNKNOWN_MODEL_LABEL, type GatewayMetrics } from './gateway-metrics.js';
import type { RouteDecision } from './router.js';
import type { RoutingState } from './routing-state.js';

/** The calls that carry traffic (the others ask about readiness or metadata and are not counted per model). */
export type TrafficMethod = 'Classify' | 'ModelInfer';

/** Model label for metrics: the name when the registry knows it, else one shared label. */
export function modelLabel(routing: RoutingState, model: string): string {
  return routing.knowsModel(model) ? model : UNKNOWN_MODEL_LABEL;
}

/** Counts where a traffic-carrying call was routed, and whether it fell back from the drawn version. */
export function countRoute(metrics: GatewayMetrics, model: string, decision: RouteDecision): void {
  metrics.routed.inc({ model, version: decision.version, target: decision.target });
  if (decision.fallback) metrics.routeFallbacks.inc({ model, version: decision.version });
}

export interface TrafficCall {
  metrics: GatewayMetrics;
  method: TrafficMethod;
  /** Model label (see modelLabel). */
  model: string;
}

/** Runs one traffic-carrying call and records its outcome code and end-to-end duration per model. */
export async function recordTraffic<T>(call: TrafficCall, run: () => Promise<T>): Promise<T> {
  const { metrics, method, model } = call;
  const startedAt = performance.now();
  let code = 'OK';
  try {
    return await run();
  } catch (error) {
    code = Status[toStatusObject(error).code] ?? 'UNKNOWN';
    throw error;
  } finally {
    metrics.requests.inc({ method, model, code });
    metrics.requestDuration.observe({ method, model }, (performance.now() - startedAt) / 1000);
  }
}
