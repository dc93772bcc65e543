import fs from 'node:fs';
import os from 'node:os';
import { configReader, defaultServiceAddress, SERVICE_PORTS, serverConfig, type ServerConfig } from '@maas/shared';

export type RolloutSourceMode = 'local' | 'kubernetes';

/** Everything the rollout controller reads from its environment. */
export interface RolloutControllerConfig extends ServerConfig {
  /** ROLLOUT_SOURCE: where ModelRollout documents come from: `local` (YAML files in ROLLOUTS_DIR) or `kubernetes` (the custom resources of NAMESPACE). */
  source: RolloutSourceMode;
  /** ROLLOUTS_DIR: local mode's folder of ModelRollout YAML files; each one's status is written beside it as <name>.status.json. */
  rolloutsDir: string;
  /** NAMESPACE: Kubernetes mode's namespace to watch (the pod's own, from the downward API). */
  namespace: string;
  /** REGISTRY_ADDRESS: model registry gRPC address (host:port). */
  registryAddress: string;
  /** GATEWAY_ADDRESS: gateway gRPC address (host:port), for the quality gate's pinned evaluation. */
  gatewayAddress: string;
  /**
   * GATEWAY_TOKEN_FILE: a file holding the API key (or JWT) the quality gate presents to the gateway as its bearer
   * token (needs a classify scope for the models it rolls out); empty: none, for a gateway with AUTH_MODE=off.
   */
  gatewayTokenFile: string;
  /** PROMETHEUS_URL: a Prometheus server's base URL; when set, analysis queries it instead of scraping METRICS_TARGETS. */
  prometheusUrl: string;
  /** METRICS_TARGETS: comma-separated /metrics URLs of every gateway and inference replica (used when PROMETHEUS_URL is empty). */
  metricsTargets: string[];
  /** RESYNC_INTERVAL_MS: every document is reconciled at least this often, in milliseconds (changes are picked up sooner). */
  resyncIntervalMs: number;
  /** REQUEST_TIMEOUT_MS: deadline of each registry call, scrape and Kubernetes request, in milliseconds. */
  requestTimeoutMs: number;
  /** QUALITY_GATE_TIMEOUT_MS: deadline of one quality gate (both evaluations), in milliseconds. */
  qualityGateTimeoutMs: number;
  /** LEADER_ELECTION: in Kubernetes mode, take a coordination.k8s.io Lease before reconciling (needed when replicas > 1). */
  leaderElection: boolean;
  /** LEASE_NAME: the Lease leader election uses. */
  leaseName: string;
  /** LEASE_DURATION_SECONDS: how long a leader's Lease holds without renewal before another replica may take it. */
  leaseDurationSeconds: number;
  /** POD_NAME: this replica's identity in the Lease and in events (default: the host name). */
  podName: string;
}

/** Reads and checks the controller's configuration; throws ConfigError naming every bad variable at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<RolloutControllerConfig> {
  const reader = configReader(env);
  const config: RolloutControllerConfig = {
    ...serverConfig(reader, SERVICE_PORTS['rollout-controller']),
    source: reader.oneOf('ROLLOUT_SOURCE', ['local', 'kubernetes'], {
      default: 'local',
      doc: 'where ModelRollout documents come from (local: ROLLOUTS_DIR; kubernetes: custom resources)',
    }),
    rolloutsDir: reader.string('ROLLOUTS_DIR', { default: '.maas/rollouts', doc: 'local folder of ModelRollout YAML files (status written beside each)' }),
    namespace: reader.string('NAMESPACE', { default: 'maas', doc: 'Kubernetes namespace whose ModelRollouts are reconciled' }),
    registryAddress: reader.string('REGISTRY_ADDRESS', { default: defaultServiceAddress('model-registry'), doc: 'model registry gRPC address' }),
    gatewayAddress: reader.string('GATEWAY_ADDRESS', { default: defaultServiceAddress('gateway'), doc: 'gateway gRPC address (quality gate evaluations)' }),
    gatewayTokenFile: reader.string('GATEWAY_TOKEN_FILE', {
      default: '',
      doc: 'file holding the bearer token the quality gate sends to the gateway (empty: none)',
    }),
    prometheusUrl: reader.string('PROMETHEUS_URL', { default: '', doc: 'Prometheus base URL for analysis (empty: scrape METRICS_TARGETS)' }),
    metricsTargets: reader.list('METRICS_TARGETS', {
      default: [`http://127.0.0.1:${SERVICE_PORTS.gateway.metrics}/metrics`, `http://127.0.0.1:${SERVICE_PORTS.inference.metrics}/metrics`],
      doc: 'comma-separated /metrics URLs of the gateways and inference replicas',
    }),
    resyncIntervalMs: reader.int('RESYNC_INTERVAL_MS', { default: 5_000, min: 50, doc: 'every document is reconciled at least this often (ms)' }),
    requestTimeoutMs: reader.int('REQUEST_TIMEOUT_MS', { default: 10_000, min: 1, doc: 'deadline of each registry call, scrape or Kubernetes request (ms)' }),
    qualityGateTimeoutMs: reader.int('QUALITY_GATE_TIMEOUT_MS', { default: 120_000, min: 1, doc: 'deadline of one quality gate (ms)' }),
    leaderElection: reader.bool('LEADER_ELECTION', { default: false, doc: 'take a Lease before reconciling (Kubernetes mode, replicas > 1)' }),
    leaseName: reader.string('LEASE_NAME', { default: 'maas-rollout-controller', doc: 'Lease used for leader election' }),
    leaseDurationSeconds: reader.int('LEASE_DURATION_SECONDS', { default: 15, min: 2, doc: 'seconds a Lease holds without renewal' }),
    podName: reader.string('POD_NAME', {
      default: os.hostname(),
      defaultDoc: '(the host name)',
      doc: "this replica's identity (Lease holder, event reporter)",
    }),
  };
  if (config.gatewayTokenFile && !fs.existsSync(config.gatewayTokenFile))
    reader.problem(`GATEWAY_TOKEN_FILE=${JSON.stringify(config.gatewayTokenFile)} does not exist`);
  if (config.prometheusUrl) {
    try {
      new URL(config.prometheusUrl);
    } catch {
      reader.problem(`PROMETHEUS_URL=${JSON.stringify(config.prometheusUrl)} is not a URL`);
    }
  } else if (config.metricsTargets.length === 0) reader.problem('METRICS_TARGETS is empty and PROMETHEUS_URL is unset: analysis would have no metrics');
  return reader.done(config);
}
