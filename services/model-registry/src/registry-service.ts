/** Assembles the registry: storage, events, handlers, gRPC and metrics servers. */
import path from 'node:path';
import { contracts } from '@maas/protos';
import { connectRegistryEventBus } from '@maas/registry-client';
import {
  createServiceMetrics,
  meshServerSecurity,
  serviceLifecycle,
  startConfiguredMetricsServer,
  startGrpcServer,
  type EventBus,
  type RunningService,
  type StartServiceOptions,
} from '@maas/shared';
import { BlobStore } from './blob-store.js';
import type { RegistryConfig } from './config.js';
import { createRegistryEvents } from './registry-events.js';
import { createRegistryHandlers } from './registry-handlers.js';
import { createRegistryMetrics } from './registry-metrics.js';
import { DamagedBlobs } from './storage-check.js';
import { RegistryStore } from './registry-store.js';
import { createVersionCommitter, removeUnreferencedBlobs } from './version-committer.js';
import { AuditLog, auditedHandlers } from './audit-log.js';

/**
 * Largest message of a RegisterVersion upload stream: a chunk of at most 4 MiB (the CLI sends 256 KiB) or the
 * manifest, with room for the other fields. Its gRPC receive limit: nothing bigger is buffered.
 */
export const MAX_UPLOAD_MESSAGE_BYTES = 4 * 1024 * 1024 + 256 * 1024;

/** Name of the SQLite database file inside the data folder. */
export const DATABASE_FILE = 'registry.db';

export interface StartRegistryOptions extends StartServiceOptions {
  /** An event bus to publish on instead of connecting one to `config.natsUrl` (it is then not closed at stop). */
  eventBus?: EventBus;
}

/** A running registry; it is SERVING (and `ready` resolved) as soon as it has started. */
export interface RunningRegistryService extends RunningService {
  /** The bus events go out on (tests wait for `connected`). */
  readonly eventBus: EventBus;
  /** The current registry revision. */
  revision(): number;
}

/**
 * Starts the model registry. One registry process per data folder: it owns the database and the blobs (at start
 * it deletes temp files and blobs nothing references).
 */
export async function startRegistryService(config: Readonly<RegistryConfig>, options: StartRegistryOptions): Promise<RunningRegistryService> {
  const logger = options.logger;
  const store = RegistryStore.open({ file: path.join(config.dataDir, DATABASE_FILE) });
  try {
    const blobs = await BlobStore.open({ dataDir: config.dataDir });
    await removeUnreferencedBlobs({ store, blobs, logger });
    logger.info({ dataDir: config.dataDir, revision: store.revision, schemaVersion: store.schemaVersion }, 'registry storage open');

    const serviceMetrics = createServiceMetrics({ service: 'model-registry' });
    const damaged = new DamagedBlobs();
    const metrics = createRegistryMetrics({ registry: serviceMetrics.registry, store, damaged });
    blobs.onHealed = (sha256, problem) => {
      damaged.clear(sha256);
      logger.warn({ sha256, problem }, 'a damaged blob was replaced by a correct upload of the same bytes');
    };
    const eventBus =
      options.eventBus ??
      connectRegistryEventBus({
        url: config.natsUrl,
        user: config.natsUser,
        password: config.natsPassword,
        name: 'model-registry',
        logger,
      });
    const audit = new AuditLog(store);
    const handlerContext = { logger, metrics: serviceMetrics };
    const handlers = auditedHandlers(
      createRegistryHandlers({
        store,
        blobs,
        committer: createVersionCommitter({ store, blobs, logger }),
        damaged,
        events: createRegistryEvents({ bus: eventBus, logger, metrics }),
        metrics,
        limits: { maxFileBytes: config.maxFileBytes, maxPackageBytes: config.maxPackageBytes },
        downloadChunkBytes: config.downloadChunkBytes,
        ctx: handlerContext,
      }),
      { audit, revision: () => store.revision, bus: eventBus, ctx: handlerContext },
    );

    const server = await startGrpcServer({
      host: config.grpcHost,
      port: config.grpcPort,
      security: meshServerSecurity({ tls: config.tls, healthPort: config.healthPort, logger }),
      services: [{ name: 'maas.v1.ModelRegistry', definition: contracts().maas.v1.ModelRegistry.service, implementation: handlers }],
      logger,
      // An upload is a stream of chunks: one message is a chunk (the CLI sends 256 KiB) or the manifest.
      receiveLimits: { methods: { RegisterVersion: MAX_UPLOAD_MESSAGE_BYTES } },
    });
    const metricsServer = await startConfiguredMetricsServer({ registry: serviceMetrics.registry, config });
    const lifecycle = serviceLifecycle({
      // The parts every service has; then its own, which the lifecycle stops in its one order.
      logger,
      server,
      metricsServer,
      shutdown: config,
      // Nothing to warm up: the database is open and serves from the first call.
      warmUp: Promise.resolve(),
      onServing: () => logger.info({ port: server.port, metricsPort: metricsServer?.port ?? -1 }, 'model registry serving'),
      eventBuses: options.eventBus ? [] : [eventBus],
      storage: [() => audit.close(), () => store.close()],
    });
    // SERVING before start resolves, as before: the registry is ready the moment it listens.
    await lifecycle.ready;

    return Object.assign(lifecycle, { eventBus, revision: () => store.revision });
  } catch (error) {
    store.close();
    throw error;
  }
}
