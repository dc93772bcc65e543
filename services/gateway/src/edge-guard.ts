/**
 * The gateway's door, as a server interceptor: authenticates the bearer token (caller-auth.ts) before the
 * request message is even read, admits the call under the caller's limits (fair-use.ts), then checks the
 * key's scope for the model the message names. Health and reflection stay open. Refusals: UNAUTHENTICATED,
 * PERMISSION_DENIED, RESOURCE_EXHAUSTED with a `retry-after-ms` trailer.
 */
import * as grpc from '@grpc/grpc-js';
import { scopeAllows, type Logger } from '@maas/shared';
import * as client from 'prom-client';
import { AuthenticationError, type CallerAuthenticator } from './caller-auth.js';
import type { FairUseLimiter } from './fair-use.js';

/** Trailing metadata of a RESOURCE_EXHAUSTED refusal: milliseconds after which a retry may be admitted. */
export const RETRY_AFTER_METADATA = 'retry-after-ms';

/** What a method needs beyond a valid token: a scope kind checked against the model the request names. */
const METHOD_SCOPES: Readonly<Record<string, { kind: string; model: (message: Record<string, unknown>) => string }>> = {
  '/maas.v1.Gateway/Classify': { kind: 'classify', model: (message) => String(message.model ?? '') },
  '/inference.GRPCInferenceService/ModelInfer': { kind: 'infer', model: (message) => String(message.model_name ?? '') },
  '/inference.GRPCInferenceService/ModelMetadata': { kind: 'infer', model: (message) => String(message.name ?? '') },
  '/inference.GRPCInferenceService/ModelReady': { kind: 'infer', model: (message) => String(message.name ?? '') },
};

/** Open to anyone: probes and tooling need them, and they reveal nothing a caller could misuse. */
const OPEN_SERVICES = ['/grpc.health.v1.Health/', '/grpc.reflection.v1.ServerReflection/', '/grpc.reflection.v1alpha.ServerReflection/'];

export interface EdgeGuardMetrics {
  /** maas_gateway_auth_refusals_total{reason}: calls refused by authentication or scope. */
  refusals: client.Counter<'reason'>;
  /** maas_gateway_limited_total{limit}: calls refused by a per-caller limit (rate, concurrency). */
  limited: client.Counter<'limit'>;
}

export function createEdgeGuardMetrics(
  registry: client.Registry,
  settings: { rateLimitRps: number; rateLimitBurst: number; maxConcurrentPerCaller: number },
): EdgeGuardMetrics {
  const registers = [registry];
  // The limits in force, so dashboards can draw them beside the traffic.
  new client.Gauge({ name: 'maas_gateway_caller_rate_limit_rps', help: 'Average calls per second each caller may make (0: no limit).', registers }).set(
    settings.rateLimitRps,
  );
  new client.Gauge({ name: 'maas_gateway_caller_rate_limit_burst', help: 'Calls a caller may make at once above the average.', registers }).set(
    settings.rateLimitBurst,
  );
  new client.Gauge({ name: 'maas_gateway_caller_max_concurrent', help: 'Calls one caller may have in flight (0: no cap).', registers }).set(
    settings.maxConcurrentPerCaller,
  );
  return {
    refusals: new client.Counter({
      name: 'maas_gateway_auth_refusals_total',
      help: 'Calls refused by authentication (missing, malformed, unknown-key, expired, issuer, invalid) or scope.',
      labelNames: ['reason'],
      registers,
    }),
    limited: new client.Counter({ name: 'maas_gateway_limited_total', help: 'Calls refused by a per-caller limit.', labelNames: ['limit'], registers }),
  };
}

export interface EdgeGuardOptions {
  /** Undefined: AUTH_MODE=off (every caller is "anonymous", still under the limits). */
  authenticator: CallerAuthenticator | undefined;
  limiter: FairUseLimiter;
  metrics: EdgeGuardMetrics;
  logger: Logger;
}

export function edgeGuard(options: EdgeGuardOptions): grpc.ServerInterceptor {
  const { authenticator, limiter, metrics } = options;
  return (method, call) => {
    if (OPEN_SERVICES.some((prefix) => method.path.startsWith(prefix))) return new grpc.ServerInterceptingCall(call);
    const scope = METHOD_SCOPES[method.path];
    let scopes: readonly string[] = ['*'];
    let release: (() => void) | undefined;
    const refuse = (status: Parameters<grpc.ServerInterceptingCallInterface['sendStatus']>[0]) => {
      release?.();
      call.sendStatus(status);
    };
    return new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, forward) {
            const authenticated = authenticator ? authenticator.authenticate(metadata) : Promise.resolve({ id: 'anonymous', scopes: ['*'] });
            authenticated.then(
              (caller) => {
                scopes = caller.scopes;
                const admission = limiter.admit(caller.id);
                if (!admission.admitted) {
                  metrics.limited.inc({ limit: admission.limit });
                  const trailer = new grpc.Metadata();
                  trailer.set(RETRY_AFTER_METADATA, String(admission.retryAfterMs));
                  refuse({ code: grpc.status.RESOURCE_EXHAUSTED, details: admission.message, metadata: trailer });
                  return;
                }
                release = admission.release;
                // Downstream hops must not see the caller's token.
                metadata.remove('authorization');
                forward(metadata);
              },
              (error: unknown) => {
                const reason = error instanceof AuthenticationError ? error.reason : 'invalid';
                metrics.refusals.inc({ reason });
                refuse({
                  code: grpc.status.UNAUTHENTICATED,
                  details: error instanceof AuthenticationError ? error.message : 'the bearer token could not be checked',
                });
              },
            );
          },
          onReceiveMessage(message, forward) {
            if (scope) {
              const model = scope.model((message ?? {}) as Record<string, unknown>);
              if (!scopeAllows(scopes, scope.kind, model)) {
                metrics.refusals.inc({ reason: 'scope' });
                refuse({ code: grpc.status.PERMISSION_DENIED, details: `this credential has no "${scope.kind}" scope for model ${JSON.stringify(model)}` });
                return;
              }
            }
            forward(message);
          },
          onCancel() {
            release?.();
          },
        });
      },
      sendStatus(status, next) {
        release?.();
        next(status);
      },
    });
  };
}
