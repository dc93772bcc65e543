import path from 'node:path';
import { contracts } from '@maas/protos';
import { followRegistry } from '@maas/registry-client';
import {
  createClient,
  createServiceMetrics,
  meshClientOptions,
  serverCredentials,
  healthPortInterceptors,
  packageVersion,
  serviceLifecycle,
  startConfiguredMetricsServer,
  startGrpcServer,
  textsRequestBytes,
  unary,
  unavailable,
  type RunningService,
  type StartServiceOptions,
} from '@maas/shared';
import { createBalancedClients, replicaReadinessProbe } from './balanced-clients.js';
import { createBatchExecutor, createClassifyHandler, type ClassifyMeta } from './classify-handler.js';
import { Coalescer } from './coalescer.js';
import type { GatewayConfig } from './config.js';
import { createGatewayMetrics } from './gateway-metrics.js';
import { TrafficMirror } from './mirror.js';
import { startEdgeGuard } from './edge-setup.js';
import { createOipProxy } from './oip-proxy.js';
import type { LabelScore } from './postprocess.js';
import { ReadinessTracker } from './readiness.js';
import { buildRoutingTable } from './router.js';
import { RoutingState } from './routing-state.js';

export { loadConfig, type GatewayConfig } from './config.js';
export { GATEWAY_SERVER_NAME, ROUTING_KEY_HEADER } from './oip-proxy.js';

/** A running gateway. */
export interface RunningGatewayService extends RunningService {
  /** Resolves once the first registry snapshot is applied and its versions probed (health turns SERVING then). */
  readonly ready: Promise<void>;
  /** Reads the registry now instead of waiting for an event or the resync timer. */
  resyncNow(): Promise<void>;
}

/** Probes never wait longer than this for inference, so a snapshot is applied promptly even when it is down. */
const MAX_PROBE_TIMEOUT_MS = 2_000;

/**
 * Starts the gateway: maas.v1.Gateway and the routed inference.GRPCInferenceService on one gRPC server, a
 * registry watch that keeps the routing table current, readiness probes against inference, and /metrics.
 * Health reads NOT_SERVING until the first registry snapshot has been applied.
 */
export async function startGatewayService(config: Readonly<GatewayConfig>, options: StartServiceOptions): Promise<RunningGatewayService> {
  const logger = options.logger;
  const grpcContracts = contracts();
  // One channel per replica of each, calls balanced and retried by our picker (balanced-clients.ts); every
  // channel with the mesh's TLS credentials.
  const mesh = meshClientOptions(config.tls);
  const clients = createBalancedClients({ tokenizerAddress: config.tokenizerAddress, inferenceAddress: config.inferenceAddress, clientOptions: mesh, logger });
  const registry = createClient(grpcContracts.maas.v1.ModelRegistry, config.registryAddress, mesh);

  const serviceMetrics = createServiceMetrics({ service: 'gateway' });

  const readiness = new ReadinessTracker({
    logger: logger.child({ component: 'readiness' }),
    pollIntervalMs: config.readinessPollMs,
    probeTimeoutMs: Math.min(config.requestTimeoutMs, MAX_PROBE_TIMEOUT_MS),
    probe: replicaReadinessProbe(clients),
  });
  const routing = new RoutingState({ readiness, logger: logger.child({ component: 'routing' }) });
  // The coalescer needs the metrics and the metrics read the coalescer's queues: tie the knot lazily.
  let queueDepths: () => Array<{ model: string; version: string; texts: number }> = () => [];
  const metrics = createGatewayMetrics({ metrics: serviceMetrics, queueDepths: () => queueDepths(), routableVersions: () => routing.routableVersions() });

  const coalescer = new Coalescer<ClassifyMeta, LabelScore>({
    maxDelayMs: config.coalesceMaxDelayMs,
    maxBatchTexts: config.coalesceMaxTexts,
    maxQueueTexts: config.maxQueueTexts,
    maxInFlight: config.coalesceMaxInFlight,
    execute: createBatchExecutor({ clients, readiness, metrics }),
    onBatch: (batch) => {
      const labels = { model: batch.model, version: batch.version };
      metrics.batchTexts.observe(labels, batch.texts);
      metrics.batchRequests.observe(labels, batch.requests);
      for (const seconds of batch.waitedSeconds) metrics.queueWait.observe(labels, seconds);
    },
  });
  queueDepths = () => coalescer.queueDepths();
  const mirror = new TrafficMirror({
    coalescer,
    targetOf: (model, decision) => routing.mirrorTarget(model, decision),
    registry: serviceMetrics.registry,
    timeoutMs: config.mirrorTimeoutMs,
    maxInFlight: config.mirrorMaxInFlight,
    logger: logger.child({ component: 'mirror' }),
  });

  const handlerContext = { logger, metrics: serviceMetrics };
  const edge = startEdgeGuard({ config, registry: serviceMetrics.registry, logger: logger.child({ component: 'edge' }) });
  const server = await startGrpcServer({
    host: config.grpcHost,
    port: config.grpcPort,
    logger,
    // Each method buffers at most what it accepts: Classify its texts, ModelInfer MAX_INFER_REQUEST_BYTES.
    receiveLimits: {
      methods: { Classify: textsRequestBytes({ maxTexts: config.maxBatchTexts, maxTextBytes: config.maxTextBytes }), ModelInfer: config.maxInferRequestBytes },
    },
    // The public edge: TLS, but callers prove who they are with a bearer token, not a client certificate.
    security: {
      credentials: serverCredentials(config.tls, { requireClientCertificate: false }),
      interceptors: [...healthPortInterceptors(config.healthPort), edge.interceptor],
      plaintextHealthPort: config.healthPort,
    },
    services: [
      {
        name: 'maas.v1.Gateway',
        definition: grpcContracts.maas.v1.Gateway.service,
        implementation: {
          Classify: unary(
            'Classify',
            createClassifyHandler({
              limits: { maxBatchTexts: config.maxBatchTexts, maxTextBytes: config.maxTextBytes },
              requestTimeoutMs: config.requestTimeoutMs,
              routing,
              coalescer,
              metrics,
              onAnswered: (answer) => mirror.offer(answer),
            }),
            handlerContext,
          ),
        },
      },
      {
        name: 'inference.GRPCInferenceService',
        definition: grpcContracts.inference.GRPCInferenceService.service,
        implementation: createOipProxy({
          clients,
          routing,
          readiness,
          metrics,
          requestTimeoutMs: config.requestTimeoutMs,
          serverVersion: packageVersion(path.join(__dirname, '..')),
          handlerContext,
        }),
      },
    ],
  });
  const metricsServer = await startConfiguredMetricsServer({ registry: serviceMetrics.registry, config });

  const watchLog = logger.child({ component: 'routing' });
  const watch = followRegistry({
    config,
    connectionName: 'gateway',
    registry,
    logger,
    requestTimeoutMs: config.requestTimeoutMs,
    onSnapshot: async (snapshot) => {
      const table = buildRoutingTable(snapshot);
      if (!routing.loaded || table.revision !== routing.revision) {
        const rollouts = [...table.models.values()].map((route) => ({
          model: route.name,
          stable: route.stable,
          canary: route.canary,
          weight: route.canaryWeight,
        }));
        watchLog.info({ revision: table.revision, rollouts }, 'routing table updated');
      }
      // Waiting for the probes makes "snapshot applied" mean "routable": the first SERVING has ready versions.
      await routing.apply(table);
    },
  });
  const lifecycle = serviceLifecycle({
    // The parts every service has; then its own, which the lifecycle stops in its one order.
    logger,
    server,
    metricsServer,
    shutdown: config,
    warmUp: watch.ready,
    onServing: () => logger.info({ port: server.port, revision: routing.revision }, 'gateway serving'),
    watches: [watch, readiness, edge],
    work: [() => mirror.close(), () => coalescer.close(unavailable('the gateway is stopping'))],
    eventBuses: [watch.bus],
    clients: [clients.tokenizer, clients.inference, registry],
  });

  return Object.assign(lifecycle, { resyncNow: () => watch.resyncNow() });
}
