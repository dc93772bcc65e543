/**
 * What the gateway writes on each request's server span (`maas.v1.Gateway/Classify`,
 * `inference.GRPCInferenceService/ModelInfer`): the model, the version that answers and how it was chosen.
 * Nothing is built when the span is not recorded (see @maas/shared request-tracing).
 */
import { annotateActiveSpan, SPAN_ATTRIBUTES, type RequestRoute } from '@maas/shared';
import type { RouteDecision } from './router.js';

/** `maas.route` of a routed decision: the side the rollout drew, or `fallback` when another version answers. */
export function routeOf(decision: Pick<RouteDecision, 'target' | 'fallback'>): RequestRoute {
  if (decision.fallback || decision.target === 'draining') return 'fallback';
  return decision.target;
}

/** Names model, version, route (and the request's text count, for Classify) on the active request span. */
export function annotateRoute(request: { model: string; version: string; route: RequestRoute; texts?: number }): void {
  annotateActiveSpan(() => ({
    [SPAN_ATTRIBUTES.model]: request.model,
    [SPAN_ATTRIBUTES.modelVersion]: request.version,
    [SPAN_ATTRIBUTES.route]: request.route,
    ...(request.texts === undefined ? {} : { [SPAN_ATTRIBUTES.texts]: request.texts }),
  }));
}
