import { contracts } from '@maas/protos';
import { followRegistry } from '@maas/registry-client';
import {
  createClient,
  createServiceMetrics,
  meshClientOptions,
  meshServerSecurity,
  serviceLifecycle,
  startConfiguredMetricsServer,
  startGrpcServer,
  textsRequestBytes,
  type RunningService,
  type StartServiceOptions,
} from '@maas/shared';
import type { TokenizerConfig } from './config.js';
import { EncodePool } from './encode-pool.js';
import { TokenizerCache, versionsInRollouts } from './tokenizer-cache.js';
import { createTokenizerHandlers } from './tokenizer-handlers.js';
import { loadTokenizer } from './tokenizer-loader.js';
import { createTokenizerMetrics } from './tokenizer-metrics.js';

export { loadConfig, type TokenizerConfig } from './config.js';
export { encodeBatch, layoutFromManifest, type EncodedBatch, type EncodingLayout, type TextTokenizer } from './encoder.js';
export { huggingfaceTokenizer } from './huggingface-encoder.js';
export { kerasTokenizer } from './keras-encoder.js';

/** A running tokenizer service; `ready` resolves once the first registry snapshot's tokenizers are loaded. */
export type RunningTokenizerService = RunningService;

/**
 * Starts the tokenizer service: gRPC server (health NOT_SERVING), /metrics, and the registry watch that
 * preloads every version a rollout references. Health turns SERVING once the first snapshot's tokenizers
 * are loaded. Encode works before that too: a version not loaded yet is loaded on first use.
 */
export async function startTokenizerService(config: Readonly<TokenizerConfig>, options: StartServiceOptions): Promise<RunningTokenizerService> {
  const logger = options.logger;
  const serviceMetrics = createServiceMetrics({ service: 'tokenizer' });
  const metrics = createTokenizerMetrics(serviceMetrics.registry);
  const protos = contracts();
  const registry = createClient(protos.maas.v1.ModelRegistry, config.registryAddress, meshClientOptions(config.tls));
  const pool = config.encodeWorkers > 0 ? new EncodePool({ size: config.encodeWorkers, logger }) : undefined;
  const loaderOptions = {
    registry,
    registryAddress: config.registryAddress,
    timeoutMs: config.registryTimeoutMs,
    maxFileBytes: config.maxTokenizerFileBytes,
    pool,
    workerKinds: new Set(config.encodeWorkerKinds),
  };
  const cache = new TokenizerCache({
    load: (key) => loadTokenizer(loaderOptions, key.model, key.version),
    maxLoaded: config.maxLoadedTokenizers,
    idleUnloadMs: config.tokenizerIdleUnloadMs,
    logger: logger.child({ component: 'tokenizer-cache' }),
    metrics,
  });

  const server = await startGrpcServer({
    host: config.grpcHost,
    port: config.grpcPort,
    logger,
    receiveLimits: { methods: { Encode: textsRequestBytes({ maxTexts: config.maxBatchTexts, maxTextBytes: config.maxTextBytes }) } },
    security: meshServerSecurity({ tls: config.tls, healthPort: config.healthPort, logger }),
    services: [
      {
        name: 'maas.v1.Tokenizer',
        definition: protos.maas.v1.Tokenizer.service,
        implementation: createTokenizerHandlers({
          cache,
          limits: { maxBatchTexts: config.maxBatchTexts, maxTextBytes: config.maxTextBytes },
          metrics,
          ctx: { logger, metrics: serviceMetrics },
        }),
      },
    ],
  });
  const metricsServer = await startConfiguredMetricsServer({ registry: serviceMetrics.registry, config });

  const watch = followRegistry({
    config,
    connectionName: 'tokenizer',
    registry,
    logger,
    onSnapshot: async (snapshot) => {
      const { loaded, failed } = await cache.pin(versionsInRollouts(snapshot));
      logger.debug({ revision: snapshot.revision, loaded, failed }, 'registry snapshot applied');
    },
  });
  const lifecycle = serviceLifecycle({
    // The parts every service has; then its own, which the lifecycle stops in its one order.
    logger,
    server,
    metricsServer,
    shutdown: config,
    warmUp: watch.ready,
    onServing: () =>
      logger.info(
        { port: server.port, tokenizers: cache.loadedCount, encodeWorkers: pool?.size ?? 0, encodeWorkerKinds: config.encodeWorkerKinds },
        'tokenizer service ready',
      ),
    watches: [watch],
    work: [() => cache.close(), () => pool?.close()],
    eventBuses: [watch.bus],
    clients: [registry],
  });

  return lifecycle;
}
