/**
 * The inference service: ONNX Runtime sessions per model version (in worker threads), dynamic batching, and
 * the Open Inference Protocol over gRPC. `startInferenceService` is what main.ts and the tests run.
 */
import { contracts } from '@maas/protos';
import {
  createClient,
  createServiceMetrics,
  followRegistry,
  type RunningService,
  type StartServiceOptions,
  startConfiguredMetricsServer,
  startGrpcServer,
} from '@maas/shared';
import type { InferenceConfig } from './config.js';
import { createInferenceMetrics } from './metrics.js';
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

/** The version reported by ServerMetadata: this package's. */
function packageVersion(): string {
  try {
    return (require('../package.json') as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export async function startInferenceService(config: Readonly<InferenceConfig>, options: StartServiceOptions): Promise<RunningInferenceService> {
  const { logger } = options;
  const serviceMetrics = createServiceMetrics({ service: 'inference' });
  const metrics = createInferenceMetrics(serviceMetrics.registry);
  const registry = createClient(contracts().maas.v1.ModelRegistry, config.registryAddress);
  const models = new ModelManager({ registry, config, logger, metrics });

  let ready = false;
  const grpcServer = await startGrpcServer({
    host: config.grpcHost,
    port: config.grpcPort,
    logger,
    services: [
      {
        name: 'inference.GRPCInferenceService',
        definition: contracts().inference.GRPCInferenceService.service,
        implementation: createOipHandlers({
          models,
          config,
          metrics,
          ctx: { logger, metrics: serviceMetrics },
          isReady: () => ready,
          serverVersion: packageVersion(),
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

  let stopping = false;
  const readyPromise = watch.ready
    .then(() => models.firstSnapshotSettled)
    .then(() => {
      if (stopping) return;
      ready = true;
      grpcServer.setServing(true);
      logger.info({ port: grpcServer.port }, 'inference service ready');
    });

  let stopped: Promise<void> | undefined;
  return {
    port: grpcServer.port,
    metricsPort: metricsServer?.port ?? -1,
    ready: readyPromise,
    resyncNow: () => watch.resyncNow(),
    stop() {
      stopped ??= (async () => {
        stopping = true;
        ready = false;
        watch.stop();
        await grpcServer.stop({ graceMs: config.shutdownGraceMs, deadlineMs: config.shutdownDeadlineMs });
        await models.close();
        await watch.close();
        await metricsServer?.close();
        registry.close();
      })();
      return stopped;
    },
  };
}
