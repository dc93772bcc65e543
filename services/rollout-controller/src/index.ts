import { contracts } from '@maas/protos';
import fs from 'node:fs';
import {
  createClient,
  createServiceMetrics,
  meshClientOptions,
  meshServerSecurity,
  serviceLifecycle,
  startConfiguredMetricsServer,
  startGrpcServer,
  withBearerToken,
  type RunningService,
  type StartServiceOptions,
} from '@maas/shared';
import { PrometheusMetricsSource, ScrapeMetricsSource } from './analysis.js';
import type { RolloutControllerConfig } from './config.js';
import { KubeRolloutStore, LeaseLeaderElector } from './kube-rollout-store.js';
import { LocalRolloutStore } from './local-rollout-store.js';
import { RolloutControlLoop } from './rollout-controller.js';
import { createRolloutMetrics } from './rollout-metrics.js';
import { RolloutReconciler } from './rollout-reconciler.js';
import type { RolloutStore } from './rollout-store.js';

export { loadConfig, type RolloutControllerConfig } from './config.js';
export * from './model-rollout.js';
export { parseMetricsText, bucketQuantile, type Sample } from './metrics-text.js';
export { judgeWindow, windowFromScrapes, ScrapeMetricsSource } from './analysis.js';
export { writeRollout, type DesiredRollout } from './registry-rollout-writer.js';
export { readStatusFile, statusFileName, type LocalStatusFile } from './local-rollout-store.js';

/** A running controller. */
export interface RunningRolloutController extends RunningService {
  /** Reconciles every document now instead of at the next resync. */
  reconcileNow(): Promise<void>;
}

/**
 * Starts the rollout controller: a gRPC server with health only (SERVING once the document source answers),
 * /metrics, and the control loop over the local folder or the Kubernetes API; in Kubernetes with
 * LEADER_ELECTION the loop runs only while this replica holds the Lease.
 */
export async function startRolloutController(config: Readonly<RolloutControllerConfig>, options: StartServiceOptions): Promise<RunningRolloutController> {
  const { logger } = options;
  const grpcContracts = contracts();
  // The registry knows this process by its certificate (spiffe://maas/rollout-controller: reads, SetRollout,
  // SetAlias); the gateway by a bearer token, like any caller of the public edge.
  const mesh = meshClientOptions(config.tls);
  const registry = createClient(grpcContracts.maas.v1.ModelRegistry, config.registryAddress, mesh);
  const token = config.gatewayTokenFile ? fs.readFileSync(config.gatewayTokenFile, 'utf8').trim() : '';
  const gateway = createClient(grpcContracts.maas.v1.Gateway, config.gatewayAddress, token && config.tls.mode === 'mtls' ? withBearerToken(mesh, token) : mesh);
  const serviceMetrics = createServiceMetrics({ service: 'rollout-controller' });
  const { counters, loopMetrics } = createRolloutMetrics(serviceMetrics.registry);
  const metricsSource = config.prometheusUrl
    ? new PrometheusMetricsSource({ url: config.prometheusUrl, timeoutMs: config.requestTimeoutMs })
    : new ScrapeMetricsSource({ targets: config.metricsTargets, timeoutMs: config.requestTimeoutMs });
  const reconciler = new RolloutReconciler({
    registry,
    gateway,
    metrics: metricsSource,
    logger: logger.child({ component: 'reconciler' }),
    requestTimeoutMs: config.requestTimeoutMs,
    qualityGateTimeoutMs: config.qualityGateTimeoutMs,
    counters: {
      registryConflicts: (model, count) => counters.conflicts.inc({ model }, count),
      analysis: (model, result) => counters.analyses.inc({ model, result }),
      qualityGate: (model, result) => counters.gates.inc({ model, result }),
    },
  });

  let store: RolloutStore;
  let elector: LeaseLeaderElector | undefined;
  let loop: RolloutControlLoop;
  if (config.source === 'kubernetes') {
    const started = await KubeRolloutStore.start({ namespace: config.namespace, logger: logger.child({ component: 'kubernetes' }), instance: config.podName });
    store = started.store;
    loop = new RolloutControlLoop({ store, reconciler, resyncIntervalMs: config.resyncIntervalMs, logger, metrics: loopMetrics });
    if (config.leaderElection) {
      const theLoop = loop;
      elector = new LeaseLeaderElector(started.k8s, started.kubeConfig, {
        namespace: config.namespace,
        leaseName: config.leaseName,
        identity: config.podName,
        leaseDurationSeconds: config.leaseDurationSeconds,
        retryPeriodMs: Math.max(1_000, (config.leaseDurationSeconds * 1000) / 3),
        logger: logger.child({ component: 'leader-election' }),
        onChange: (leader) => (leader ? theLoop.start() : void theLoop.pause()),
      });
    }
  } else {
    store = new LocalRolloutStore({ dir: config.rolloutsDir, logger: logger.child({ component: 'rollouts-dir' }) });
    loop = new RolloutControlLoop({ store, reconciler, resyncIntervalMs: config.resyncIntervalMs, logger, metrics: loopMetrics });
  }

  const server = await startGrpcServer({
    host: config.grpcHost,
    port: config.grpcPort,
    logger,
    security: meshServerSecurity({ tls: config.tls, healthPort: config.healthPort, logger }),
    services: [],
  });
  const metricsServer = await startConfiguredMetricsServer({ registry: serviceMetrics.registry, config });
  const lifecycle = serviceLifecycle({
    logger,
    server,
    metricsServer,
    shutdown: config,
    warmUp: Promise.resolve(),
    onServing: () => {
      logger.info(
        {
          port: server.port,
          source: config.source,
          dir: config.source === 'local' ? config.rolloutsDir : undefined,
          namespace: config.source === 'kubernetes' ? config.namespace : undefined,
        },
        'rollout controller serving',
      );
      if (elector) elector.start();
      else loop.start();
    },
    watches: [store, ...(elector ? [elector] : [])],
    work: [() => loop.pause()],
    clients: [registry, gateway],
  });
  return Object.assign(lifecycle, { reconcileNow: () => loop.reconcileAll() });
}
