/** Assembles the registry: storage, events, handlers, gRPC and metrics servers. */
import path from 'node:path';
import { contracts } from '@maas/protos';
import { connectEventBus, createServiceMetrics, startGrpcServer, startMetricsServer, type EventBus, type Logger } from '@maas/shared';
import { BlobStore } from './blob-store.js';
import type { RegistryConfig } from './config.js';
import { createRegistryEvents } from './registry-events.js';
import { createRegistryHandlers } from './registry-handlers.js';
import { createRegistryMetrics } from './registry-metrics.js';
import { RegistryStore } from './registry-store.js';
import { createVersionCommitter, removeUnreferencedBlobs } from './version-committer.js';

/** Name of the SQLite database file inside the data folder. */
export const DATABASE_FILE = 'registry.db';

export interface StartRegistryOptions {
  logger: Logger;
  /** An event bus to publish on instead of connecting one to `config.natsUrl` (it is then not closed at stop). */
  eventBus?: EventBus;
}

export interface RunningRegistry {
  /** The bound gRPC port (useful with GRPC_PORT=0). */
  readonly port: number;
  /** The bound /metrics port; undefined when METRICS_PORT=-1. */
  readonly metricsPort: number | undefined;
  /** The bus events go out on (tests wait for `connected`). */
  readonly eventBus: EventBus;
  /** The current registry revision. */
  revision(): number;
  /** Clean stop: NOT_SERVING, grace, in-flight calls finish, then NATS drains and the database closes. */
  stop(): Promise<void>;
}

/**
 * Starts the model registry. One registry process per data folder: it owns the database and the blobs (at start
 * it deletes temp files and blobs nothing references).
 */
export async function startRegistryService(config: Readonly<RegistryConfig>, options: StartRegistryOptions): Promise<RunningRegistry> {
  const logger = options.logger;
  const store = RegistryStore.open({ file: path.join(config.dataDir, DATABASE_FILE) });
  try {
    const blobs = await BlobStore.open({ dataDir: config.dataDir });
    await removeUnreferencedBlobs({ store, blobs, logger });
    logger.info({ dataDir: config.dataDir, revision: store.revision, schemaVersion: store.schemaVersion }, 'registry storage open');

    const serviceMetrics = createServiceMetrics({ service: 'model-registry' });
    const metrics = createRegistryMetrics({ registry: serviceMetrics.registry, store });
    const eventBus = options.eventBus ?? connectEventBus({ url: config.natsUrl, name: 'model-registry', logger });
    const handlers = createRegistryHandlers({
      store,
      blobs,
      committer: createVersionCommitter({ store, blobs, logger }),
      events: createRegistryEvents({ bus: eventBus, logger, metrics }),
      metrics,
      limits: { maxFileBytes: config.maxFileBytes, maxPackageBytes: config.maxPackageBytes },
      downloadChunkBytes: config.downloadChunkBytes,
      ctx: { logger, metrics: serviceMetrics },
    });

    const server = await startGrpcServer({
      host: config.grpcHost,
      port: config.grpcPort,
      services: [{ name: 'maas.v1.ModelRegistry', definition: contracts().maas.v1.ModelRegistry.service, implementation: handlers }],
      logger,
    });
    const metricsServer = config.metricsPort >= 0 ? await startMetricsServer({ registry: serviceMetrics.registry, port: config.metricsPort, host: config.grpcHost }) : undefined;
    // Nothing to warm up: the database is open and serves from the first call.
    server.setServing(true);

    let stopping: Promise<void> | undefined;
    return {
      port: server.port,
      metricsPort: metricsServer?.port,
      eventBus,
      revision: () => store.revision,
      stop: () =>
        (stopping ??= (async () => {
          await server.stop({ graceMs: config.shutdownGraceMs, deadlineMs: config.shutdownDeadlineMs });
          await metricsServer?.close();
          if (!options.eventBus) await eventBus.close();
          store.close();
        })()),
    };
  } catch (error) {
    store.close();
    throw error;
  }
}
