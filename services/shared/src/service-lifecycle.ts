/**
 * One start/stop shape for every service. Each `startXxxService` builds its parts (clients, domain modules,
 * gRPC server, /metrics, registry watch) and hands them to `serviceLifecycle`, which turns health SERVING once
 * warm-up is done and stops the parts in the same order in every service:
 *
 * 1. the gRPC server: NOT_SERVING → grace for endpoints to update → tryShutdown (in-flight calls finish) →
 *    forced after the deadline;
 * 2. watches and timers (registry watch, readiness probes), so that nothing new starts;
 * 3. the service's own work (queues, caches, sessions) that the handlers used;
 * 4. NATS connections: drained, then awaited until closed;
 * 5. gRPC clients;
 * 6. the /metrics server;
 * 7. storage nothing else uses any more (the registry's database).
 *
 * Telemetry is flushed by runServiceMain after this, as the process exits.
 */
import type { ServerConfig } from './config.js';
import type { RunningGrpcServer } from './grpc-server.js';
import type { Logger } from './logger.js';
import type { MetricsServer } from './metrics.js';
import type { RunningService } from './service-main.js';

/** A step of a stop: may be synchronous. */
export type StopStep = () => void | Promise<void>;

export interface ServiceLifecycleOptions {
  logger: Logger;
  server: RunningGrpcServer;
  /** Undefined when METRICS_PORT is -1. */
  metricsServer: MetricsServer | undefined;
  /** SHUTDOWN_GRACE_MS and SHUTDOWN_DEADLINE_MS. */
  shutdown: Pick<ServerConfig, 'shutdownGraceMs' | 'shutdownDeadlineMs'>;
  /** Health turns SERVING when this resolves (not when the service is stopping by then). */
  warmUp: Promise<unknown>;
  /** Called as health turns SERVING: the service's "ready" log line, and whatever else it marks. */
  onServing?: () => void;
  /** Step 2: registry watches, probes, timers. */
  watches?: ReadonlyArray<{ stop(): void }>;
  /** Step 3: the service's own work. */
  work?: readonly StopStep[];
  /** Step 4: NATS connections (each one's close drains it and awaits closed()). */
  eventBuses?: ReadonlyArray<{ close(): Promise<void> }>;
  /** Step 5: gRPC clients. */
  clients?: ReadonlyArray<{ close(): void }>;
  /** Step 7: storage. */
  storage?: readonly StopStep[];
}

/** A running service as `serviceLifecycle` drives it. */
export interface ServiceLifecycle extends RunningService {
  /** True from SERVING until stop begins: what ServerReady-style calls answer. */
  readonly serving: boolean;
}

export function serviceLifecycle(options: ServiceLifecycleOptions): ServiceLifecycle {
  const { server, metricsServer, shutdown } = options;
  let serving = false;
  let stopping: Promise<void> | undefined;

  const ready = options.warmUp.then(() => {
    if (stopping) return;
    server.setServing(true);
    serving = true;
    options.onServing?.();
  });

  const stop = () => {
    stopping ??= (async () => {
      serving = false;
      await server.stop({ graceMs: shutdown.shutdownGraceMs, deadlineMs: shutdown.shutdownDeadlineMs });
      for (const watch of options.watches ?? []) watch.stop();
      for (const step of options.work ?? []) await step();
      for (const bus of options.eventBuses ?? []) await bus.close();
      for (const client of options.clients ?? []) client.close();
      await metricsServer?.close();
      for (const step of options.storage ?? []) await step();
      options.logger.debug('service stopped');
    })();
    return stopping;
  };

  return {
    port: server.port,
    metricsPort: metricsServer?.port ?? -1,
    ready,
    get serving() {
      return serving;
    },
    stop,
  };
}
