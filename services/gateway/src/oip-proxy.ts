import type * as grpc from '@grpc/grpc-js';
import {
  Status,
  type GRPCInferenceServiceHandlers,
  type ModelInferRequest__Output,
  type ModelInferResponse,
  type ModelInferResponse__Output,
  type ModelMetadataResponse__Output,
  type ModelReadyResponse__Output,
} from '@maas/protos';
import { deadlineFromCall, hasStatus, invalidArgument, unary, unaryCall, type HandlerContext } from '@maas/shared';
import { callHop, noteInferenceFailure, type DownstreamClients } from './downstream.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import type { ReadinessTracker } from './readiness.js';
import { annotateRoute, routeOf } from './request-spans.js';
import type { RoutingState } from './routing-state.js';
import { countRoute, modelLabel, recordTraffic } from './traffic-metrics.js';

/** Name the gateway gives in OIP ServerMetadata. */
export const GATEWAY_SERVER_NAME = 'maas-gateway';

/**
 * gRPC metadata key for a sticky routing key on OIP calls (the OIP messages have no field for it); same
 * meaning as ClassifyRequest.routing_key.
 */
export const ROUTING_KEY_HEADER = 'x-maas-routing-key';

export interface OipProxyOptions {
  clients: DownstreamClients;
  routing: RoutingState;
  readiness: ReadinessTracker;
  metrics: GatewayMetrics;
  /** Deadline passed downstream when the caller set none. */
  requestTimeoutMs: number;
  /** Reported in ServerMetadata. */
  serverVersion: string;
  /** Handler plumbing (gRPC metrics, error mapping, logging). */
  handlerContext: HandlerContext;
}

function routingKeyOf(call: grpc.ServerUnaryCall<unknown, unknown>): string {
  const value = call.metadata.get(ROUTING_KEY_HEADER)[0];
  return typeof value === 'string' ? value : value ? value.toString('utf8') : '';
}

/**
 * inference.GRPCInferenceService at the gateway: the same Open Inference Protocol that the inference service
 * serves, routed. An empty model_version means the rollout's choice (canary included, never a version that
 * is not ready); an explicit one goes to that version. Tensors pass through untouched, raw or typed. The
 * server-level calls are the gateway's own.
 */
export function createOipProxy(options: OipProxyOptions): GRPCInferenceServiceHandlers {
  const { clients, routing, metrics } = options;
  const ctx = options.handlerContext;

  /**
   * The version a model-level call goes to: the named one, or the rollout's choice. Only calls that carry
   * traffic (ModelInfer) count in the routing metrics; readiness and metadata questions do not.
   */
  const target = (request: { model: string; version: string; call: grpc.ServerUnaryCall<unknown, unknown>; traffic: boolean }): string => {
    const { model, version } = request;
    if (!model) throw invalidArgument('model_name is required');
    // A version label or an alias; the version label goes downstream.
    if (version) {
      const pinned = routing.explicit({ model, version }).version;
      if (request.traffic) annotateRoute({ model, version: pinned, route: 'pinned' });
      return pinned;
    }
    const decision = routing.route(model, routingKeyOf(request.call));
    if (!request.traffic) return decision.version;
    countRoute(metrics, modelLabel(routing, model), decision);
    annotateRoute({ model, version: decision.version, route: routeOf(decision) });
    return decision.version;
  };

  const modelInfer = (
    request: ModelInferRequest__Output,
    call: grpc.ServerUnaryCall<ModelInferRequest__Output, ModelInferResponse>,
  ): Promise<ModelInferResponse> =>
    recordTraffic({ metrics, method: 'ModelInfer', model: modelLabel(routing, request.model_name) }, async () => {
      const version = target({ model: request.model_name, version: request.model_version, call, traffic: true });
      let response: ModelInferResponse__Output;
      try {
        response = await callHop('inference', metrics, () =>
          unaryCall<ModelInferRequest__Output, ModelInferResponse__Output>(
            (forwarded, metadata, callOptions, callback) => clients.inference.ModelInfer(forwarded, metadata, callOptions, callback),
            // Everything as the caller sent it (typed or raw contents, parameters, id), with the version filled in.
            { ...request, model_version: version },
            // parent: a caller that goes away (or runs out of time) cancels the forwarded call.
            { deadline: deadlineFromCall(call, options.requestTimeoutMs), parent: call },
          ),
        );
      } catch (error) {
        noteInferenceFailure(options.readiness, { model: request.model_name, version }, error);
        throw error;
      }
      // Callers learn which version answered a routed call from this field.
      return { ...response, model_version: response.model_version || version };
    });

  return {
    ServerLive: unary('ServerLive', async () => ({ live: true }), ctx),
    // Ready once the routing table has been read from the registry: before that nothing can be routed.
    ServerReady: unary('ServerReady', async () => ({ ready: routing.loaded }), ctx),
    ServerMetadata: unary('ServerMetadata', async () => ({ name: GATEWAY_SERVER_NAME, version: options.serverVersion, extensions: [] }), ctx),
    ModelReady: unary(
      'ModelReady',
      async (request, call) => {
        let version: string;
        try {
          version = target({ model: request.name, version: request.version, call, traffic: false });
        } catch (error) {
          // "Is the model ready?" has a plain answer when it exists but nothing of it can take traffic.
          if (hasStatus(error, Status.UNAVAILABLE) || hasStatus(error, Status.FAILED_PRECONDITION)) return { ready: false };
          throw error;
        }
        return callHop('inference', metrics, () =>
          unaryCall<{ name: string; version: string }, ModelReadyResponse__Output>(
            (forwarded, metadata, callOptions, callback) => clients.inference.ModelReady(forwarded, metadata, callOptions, callback),
            { name: request.name, version },
            { deadline: deadlineFromCall(call, options.requestTimeoutMs), parent: call },
          ),
        );
      },
      ctx,
    ),
    ModelMetadata: unary(
      'ModelMetadata',
      async (request, call) => {
        const version = target({ model: request.name, version: request.version, call, traffic: false });
        return callHop('inference', metrics, () =>
          unaryCall<{ name: string; version: string }, ModelMetadataResponse__Output>(
            (forwarded, metadata, callOptions, callback) => clients.inference.ModelMetadata(forwarded, metadata, callOptions, callback),
            { name: request.name, version },
            { deadline: deadlineFromCall(call, options.requestTimeoutMs), parent: call },
          ),
        );
      },
      ctx,
    ),
    ModelInfer: unary('ModelInfer', modelInfer, ctx),
  };
}
