/**
 * The inference service: ONNX Runtime sessions per model version (in worker threads), dynamic batching, and
 * the Open Inference Protocol over gRPC. `startInferenceService` is what main.ts and the tests run.
 */
import path from 'node:path';
import { contracts } from '@maas/protos';
import { followRegistry } from '@maas/registry-client';
import {
  createClient,
  createServiceMetrics,
  MESSAGE_OVERHEAD_BYTES,
  meshClientOptions,
  meshServerSecurity,
  packageVersion,
  serviceLifecycle,
  startConfiguredMetricsServer,
  startGrpcServer,
} from '@maas/shared';
import type { RunningService, ServiceLifecycle, StartServiceOptions } from '@maas/shared';
import type { InferenceConfig } from './config.js';
import { createInferenceMetrics } from './inference-metrics.js';
import { ModelManager } from './model-manager.js';
import { createOipHandlers } from './oip-handlers.js';

export { loadConfig, type InferenceConfig } from './config.js';
export { SERVER_NAME } from './oip-handlers.js';

export interface RunningInferenceService extends RunningService {
  /**
   * Resolves when the versions of the first registry snapshot have each loaded or failed; health turns
   * SERVING and ServerReady true at that moment. It stays pending while the registry cannot be reached.
   */
  readonly ready: Promise<void>;
  /** Reads the registry now instead of waiting for an event or the resync timer. */
  resyncNow(): Promise<void>;
}

export async function startInferenceService(config: Readonly<InferenceConfig>, options: StartServiceOptions): Promise<RunningInferenceService> {
  const { logger } = options;
  const serviceMetrics = createServiceMetrics({ service: 'inference' });
  const metrics = createInferenceMetrics(serviceMetrics.registry);
  const registry = createClient(contracts().maas.v1.ModelRegistry, config.registryAddress, meshClientOptions(config.tls));
  const models = new ModelManager({ registry, config, logger, metrics });

  // ServerReady answers what health says: SERVING from the end of warm-up until stop begins.
  let lifecycle: ServiceLifecycle | undefined;
  const server = await startGrpcServer({
    host: config.grpcHost,
    port: config.grpcPort,
    logger,
    // Two maximal tensors' worth (typed int64 contents take up to 10 bytes an element; ids and a mask), not more.
    receiveLimits: { methods: { ModelInfer: 2 * config.maxTensorBytes + MESSAGE_OVERHEAD_BYTES } },
    security: meshServerSecurity({ tls: config.tls, healthPort: config.healthPort, logger }),
    services: [
      {
        name: 'inference.GRPCInferenceService',
        definition: contracts().inference.GRPCInferenceService.service,
        implementation: createOipHandlers({
          models,
          config,
          metrics,
          ctx: { logger, metrics: serviceMetrics },
          isReady: () => lifecycle?.serving === true,
          serverVersion: packageVersion(path.join(__dirname, '..')),
        }),
      },
    ],
  });
  const metricsServer = await startConfiguredMetricsServer({ registry: serviceMetrics.registry, config });

  const watch = followRegistry({
    config,
    connectionName: 'inference',
    registry,
    logger,
    onSnapshot: async (snapshot) => models.applySnapshot(snapshot),
  });

  lifecycle = serviceLifecycle({
    // The parts every service has; then its own, which the lifecycle stops in its one order.
    logger,
    server,
    metricsServer,
    shutdown: config,
    warmUp: watch.ready.then(() => models.firstSnapshotSettled),
    onServing: () => logger.info({ port: server.port }, 'inference service ready'),
    watches: [watch],
    work: [() => models.close()],
    eventBuses: [watch.bus],
    clients: [registry],
  });

  return Object.assign(lifecycle, { resyncNow: () => watch.resyncNow() });
}
