/** Builds the gateway's edge guard from its config: authenticator (unless AUTH_MODE=off), limiter, metrics. */
import type { Logger } from '@maas/shared';
import type * as grpc from '@grpc/grpc-js';
import type * as client from 'prom-client';
import { createCallerAuthenticator } from './caller-auth.js';
import type { EdgeConfig } from './edge-config.js';
import { createEdgeGuardMetrics, edgeGuard } from './edge-guard.js';
import { FairUseLimiter } from './fair-use.js';

export function startEdgeGuard(options: { config: EdgeConfig; registry: client.Registry; logger: Logger }): {
  interceptor: grpc.ServerInterceptor;
  stop(): void;
} {
  const { config, logger } = options;
  if (config.authMode === 'off') logger.warn('AUTH_MODE=off: the gateway accepts calls without a credential');
  const authenticator = config.authMode === 'required' ? createCallerAuthenticator(config, logger) : undefined;
  const limiter = new FairUseLimiter(config);
  const metrics = createEdgeGuardMetrics(options.registry, config);
  return { interceptor: edgeGuard({ authenticator, limiter, metrics, logger }), stop: () => authenticator?.close() };
}
