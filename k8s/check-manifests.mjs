#!/usr/bin/env node
/**
 * Checks rendered kustomize output (what `kubectl kustomize k8s/overlays/<name>` prints) for the mistakes
 * that render fine and fail only in a cluster: a workload without probes or resources, a service reading
 * an address no Service answers, ports that disagree between env, probes, Services and scrape annotations,
 * a grace period shorter than the shutdown it must cover, a ConfigMap reference the hash suffix broke; and,
 * for the observability component, Prometheus Operator objects that scrape nothing, a PrometheusRule that
 * drifted from observability/prometheus/maas-rules.yaml, a collector pipeline naming an undefined component or
 * a Service that is not there, a dashboard ConfigMap that is not dashboard JSON; and, for the rollouts
 * component, a ModelRollout without its CRD, a CRD without status subresource or printer columns, and a
 * controller whose RBAC lacks (or over-grants) what it calls or that runs replicas without leader election;
 * and NATS credentials anywhere but in a Secret (a ConfigMap, a literal env value, a URL with a password, the
 * NATS server's config file), or services and the NATS server reading different Secrets.
 *
 *   node k8s/check-manifests.mjs <overlay>=<rendered.yaml> [...]     (k8s/check.sh renders and calls it)
 *
 * Prints one line per overlay (and every problem found); exits 1 when any overlay has a problem.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

/** The maas services as the code defines them (ports: DESIGN.md; variables: services/<svc>/src/config.ts). */
const SERVICES = {
  gateway: { kind: 'Deployment', grpcPort: 50051, metricsPort: 9464, env: ['TOKENIZER_ADDRESS', 'INFERENCE_ADDRESS'], pdb: true },
  tokenizer: { kind: 'Deployment', grpcPort: 50052, metricsPort: 9465, env: [], pdb: true },
  inference: { kind: 'Deployment', grpcPort: 50053, metricsPort: 9466, env: ['EXECUTION_PROVIDERS', 'MODEL_CACHE_DIR'], pdb: true, startupProbe: true },
  'model-registry': { kind: 'StatefulSet', grpcPort: 50054, metricsPort: 9467, env: ['REGISTRY_DATA_DIR'], pdb: false, replicas: 1 },
};
/**
 * Set for every service (the shared config map): NATS_URL and the ports are server settings (services/shared
 * serverConfig); REGISTRY_ADDRESS is read by the registry's consumers only (libs/registry-client) and ignored by
 * the registry. Addresses must be explicit in Kubernetes.
 */
const COMMON_ENV = ['REGISTRY_ADDRESS', 'NATS_URL', 'GRPC_PORT', 'METRICS_PORT'];
/** Variables holding a host:port of one of our own services. */
const ADDRESS_ENV = { REGISTRY_ADDRESS: 'model-registry', TOKENIZER_ADDRESS: 'tokenizer', INFERENCE_ADDRESS: 'inference' };
/** services/shared defaults, used when a deployment leaves them unset. */
const SHUTDOWN_DEFAULTS = { SHUTDOWN_GRACE_MS: 2_000, SHUTDOWN_DEADLINE_MS: 15_000 };
const PRELOAD = '/app/services/shared/dist/telemetry-preload.js';
const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
const CLUSTER_SCOPED = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'PriorityClass', 'StorageClass']);
/** The rules promtool tests; the PrometheusRule named maas must hold exactly these groups. */
const RULES_FILE = new URL('../observability/prometheus/maas-rules.yaml', import.meta.url);
/** What the collector's tail sampling must keep (k8s/components/observability/otel-collector-config.yaml). */
const REQUIRED_SAMPLING = {
  'every error': (policy) => policy.type === 'status_code' && policy.status_code?.status_codes?.includes('ERROR'),
  'every slow request': (policy) => policy.type === 'latency' && policy.latency?.threshold_ms > 0,
  'a share of canary traffic': (policy) => JSON.stringify(policy).includes('"canary"'),
};

/** CPU in cores, memory in bytes, from a Kubernetes quantity ("500m", "2", "256Mi", "1G"). */
export function parseQuantity(value) {
  const text = String(value);
  const match = /^([0-9.]+)([a-zA-Z]*)$/.exec(text);
  if (!match) return Number.NaN;
  const factors = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
  const factor = factors[match[2]];
  return factor === undefined ? Number.NaN : Number(match[1]) * factor;
}

function selectorMatches(selector, labels) {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([key, value]) => labels?.[key] === value);
}

/** JSON with object keys sorted (kustomize reorders keys; the content is what must match). */
function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/** A metav1.LabelSelector (matchLabels and matchExpressions) against labels; an empty selector matches nothing here. */
function labelSelectorMatches(selector, labels = {}) {
  const expressions = selector?.matchExpressions ?? [];
  if (Object.keys(selector?.matchLabels ?? {}).length === 0 && expressions.length === 0) return false;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  return (
    byLabels &&
    expressions.every(({ key, operator, values = [] }) => {
      if (operator === 'In') return values.includes(labels[key]);
      if (operator === 'NotIn') return !values.includes(labels[key]);
      if (operator === 'Exists') return key in labels;
      if (operator === 'DoesNotExist') return !(key in labels);
      return false;
    })
  );
}

/** Component names a collector pipeline refers to ("otlp/jaeger" is an "otlp" named jaeger: defined by its full key). */
function collectorProblems(where, config, findService) {
  const problems = [];
  const pipelines = config?.service?.pipelines ?? {};
  if (Object.keys(pipelines).length === 0) problems.push(`${where}: no pipelines`);
  for (const [name, pipeline] of Object.entries(pipelines)) {
    for (const section of ['receivers', 'processors', 'exporters']) {
      for (const component of pipeline[section] ?? [])
        if (!(component in (config[section] ?? {})))
          problems.push(`${where}: pipeline ${name} names ${section.slice(0, -1)} ${component}, which is not defined`);
    }
    if (!(pipeline.receivers?.length > 0) || !(pipeline.exporters?.length > 0)) problems.push(`${where}: pipeline ${name} needs a receiver and an exporter`);
  }
  for (const extension of config?.service?.extensions ?? [])
    if (!(extension in (config.extensions ?? {}))) problems.push(`${where}: extension ${extension} is not defined`);
  // An exporter sending to a Service in this namespace: that Service and port must be rendered.
  for (const [name, exporter] of Object.entries(config?.exporters ?? {})) {
    const target = /^(?:[a-z]+:\/\/)?([a-z0-9-]+):(\d+)/.exec(String(exporter?.endpoint ?? ''));
    if (!target) continue;
    const service = findService(target[1]);
    if (!service?.spec?.ports?.some((port) => port.port === Number(target[2])))
      problems.push(`${where}: exporter ${name} sends to ${target[1]}:${target[2]}, which no rendered Service answers`);
  }
  const policies = config?.processors?.tail_sampling?.policies;
  if (policies) {
    for (const [what, test] of Object.entries(REQUIRED_SAMPLING))
      if (!policies.some(test)) problems.push(`${where}: tail sampling keeps no policy for ${what}`);
  }
  return problems;
}

/** Checks one rendered overlay; returns the problems found (empty when all is well) and what was checked. */
export function checkRendered(objects) {
  const problems = [];
  const byKind = (kind) => objects.filter((object) => object.kind === kind);
  const find = (kind, name) => objects.find((object) => object.kind === kind && object.metadata?.name === name);
  const workloads = objects.filter((object) => WORKLOAD_KINDS.has(object.kind));
  const podLabels = (workload) => workload.spec?.template?.metadata?.labels ?? {};

  // Identity: unique objects, one namespace for all of them.
  const seen = new Set();
  for (const object of objects) {
    const key = `${object.kind}/${object.metadata?.namespace ?? ''}/${object.metadata?.name}`;
    if (seen.has(key)) problems.push(`${object.kind} ${object.metadata?.name} appears twice`);
    seen.add(key);
  }
  const namespaces = new Set(objects.filter((object) => !CLUSTER_SCOPED.has(object.kind)).map((object) => object.metadata?.namespace ?? '(none)'));
  if (namespaces.size !== 1) problems.push(`objects are spread over namespaces ${[...namespaces].join(', ')}; expected one`);
  const namespaceObjects = byKind('Namespace').map((object) => object.metadata.name);
  for (const namespace of namespaces) {
    if (namespaceObjects.length > 0 && !namespaceObjects.includes(namespace))
      problems.push(`namespace ${namespace} is used but the Namespace rendered is ${namespaceObjects.join(', ')}`);
  }

  /** The environment a container sees: envFrom ConfigMaps first, then env (which wins), like the kubelet. */
  const effectiveEnv = (where, container) => {
    const env = new Map();
    for (const source of container.envFrom ?? []) {
      if (!source.configMapRef) continue;
      const configMap = find('ConfigMap', source.configMapRef.name);
      if (!configMap) {
        if (!source.configMapRef.optional) problems.push(`${where}: envFrom names ConfigMap ${source.configMapRef.name}, which is not rendered`);
        continue;
      }
      for (const [name, value] of Object.entries(configMap.data ?? {})) env.set(name, String(value));
    }
    for (const variable of container.env ?? []) {
      // $(NAME) expands only names defined before it (envFrom or earlier env); anything else stays literal.
      for (const [, name] of String(variable.value ?? '').matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
        if (!env.has(name)) problems.push(`${where}: env ${variable.name} refers to $(${name}), which is not defined before it`);
      }
      const ref = variable.valueFrom?.configMapKeyRef;
      if (ref) {
        const value = find('ConfigMap', ref.name)?.data?.[ref.key];
        if (value === undefined && !ref.optional) problems.push(`${where}: env ${variable.name} reads ${ref.name}/${ref.key}, which is not rendered`);
        env.set(variable.name, value === undefined ? undefined : String(value));
      } else {
        env.set(variable.name, variable.value === undefined ? undefined : String(variable.value));
      }
    }
    return env;
  };

  // Every workload (ours and components' alike): resources, probes, hardening, pinned images.
  for (const workload of workloads) {
    const pod = workload.spec?.template?.spec ?? {};
    for (const container of pod.containers ?? []) {
      const where = `${workload.kind} ${workload.metadata.name}/${container.name}`;
      const resources = container.resources ?? {};
      for (const resource of ['cpu', 'memory']) {
        const request = resources.requests?.[resource];
        const limit = resources.limits?.[resource];
        if (request === undefined) problems.push(`${where}: no ${resource} request`);
        if (limit === undefined) problems.push(`${where}: no ${resource} limit`);
        if (request !== undefined && limit !== undefined && !(parseQuantity(request) <= parseQuantity(limit))) {
          problems.push(`${where}: ${resource} request ${request} is not within its limit ${limit}`);
        }
      }
      for (const probe of ['readinessProbe', 'livenessProbe']) if (!container[probe]) problems.push(`${where}: no ${probe}`);
      const runAsNonRoot = container.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
      if (runAsNonRoot !== true) problems.push(`${where}: runAsNonRoot is not set`);
      if (container.securityContext?.readOnlyRootFilesystem !== true) problems.push(`${where}: root file system is not read-only`);
      if (container.securityContext?.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
      const image = String(container.image ?? '');
      const tag = image.includes('@') ? 'digest' : image.slice(image.lastIndexOf('/') + 1).split(':')[1];
      if (!tag || tag === 'latest') problems.push(`${where}: image ${image || '(none)'} has no pinned tag`);
    }
  }

  // Our four services: the wiring the code expects.
  for (const [name, spec] of Object.entries(SERVICES)) {
    const workload = find(spec.kind, name);
    if (!workload) {
      problems.push(`${spec.kind} ${name} is missing`);
      continue;
    }
    const where = `${spec.kind} ${name}`;
    const pod = workload.spec.template.spec;
    const container = pod.containers?.[0];
    if (!container) {
      problems.push(`${where}: no container`);
      continue;
    }
    if (spec.replicas !== undefined && workload.spec.replicas !== spec.replicas) {
      problems.push(`${where}: replicas must be exactly ${spec.replicas} (SQLite on one volume is a single source of truth), found ${workload.spec.replicas}`);
    }
    const command = [...(container.command ?? []), ...(container.args ?? [])];
    const expectedCommand = ['node', '--require', PRELOAD, `/app/services/${name}/dist/main.js`];
    if (JSON.stringify(command) !== JSON.stringify(expectedCommand))
      problems.push(`${where}: command is ${JSON.stringify(command)}, expected ${JSON.stringify(expectedCommand)}`);

    const env = effectiveEnv(where, container);
    for (const variable of [...COMMON_ENV, ...spec.env]) if (!env.get(variable)) problems.push(`${where}: ${variable} is not set`);
    const grpcPort = Number(env.get('GRPC_PORT') ?? spec.grpcPort);
    const metricsPort = Number(env.get('METRICS_PORT') ?? spec.metricsPort);
    if (grpcPort !== spec.grpcPort) problems.push(`${where}: GRPC_PORT ${grpcPort} differs from the plan's ${spec.grpcPort}`);
    if (metricsPort !== spec.metricsPort) problems.push(`${where}: METRICS_PORT ${metricsPort} differs from the plan's ${spec.metricsPort}`);
    const ports = new Map((container.ports ?? []).map((port) => [port.name, port.containerPort]));
    if (ports.get('grpc') !== grpcPort) problems.push(`${where}: container port "grpc" is ${ports.get('grpc')}, GRPC_PORT is ${grpcPort}`);
    if (ports.get('metrics') !== metricsPort) problems.push(`${where}: container port "metrics" is ${ports.get('metrics')}, METRICS_PORT is ${metricsPort}`);

    // grpc.health.v1 is what says SERVING only after warm-up: probes must ask it, on the gRPC port — or, with
    // mTLS on (kubelet cannot present a client certificate), on the plaintext health-only HEALTH_PORT.
    const tlsMode = env.get('TLS_MODE') ?? 'mtls';
    const healthPort = Number(env.get('HEALTH_PORT') ?? -1);
    const probePort = healthPort > 0 ? healthPort : grpcPort;
    if (tlsMode === 'mtls' && !(healthPort > 0)) problems.push(`${where}: TLS_MODE=mtls needs HEALTH_PORT for the kubelet's gRPC probes`);
    if (healthPort > 0 && ports.get('health') !== healthPort)
      problems.push(`${where}: container port "health" is ${ports.get('health')}, HEALTH_PORT is ${healthPort}`);
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      if (!container[probe]) continue;
      if (container[probe].grpc?.port !== probePort) problems.push(`${where}: ${probe} is not a gRPC health probe on port ${probePort}`);
    }
    // mTLS reads its files from a mounted Secret (TLS_*_FILE default to /etc/maas/tls).
    if (tlsMode === 'mtls') {
      const tlsMount = (container.volumeMounts ?? []).find((mount) => mount.mountPath === '/etc/maas/tls');
      const tlsVolume = (pod.volumes ?? []).find((volume) => volume.name === tlsMount?.name);
      if (!tlsVolume?.secret?.secretName) problems.push(`${where}: TLS_MODE=mtls but no Secret is mounted at /etc/maas/tls`);
    }
    // An identity of its own, not the namespace's default account.
    const account = pod.serviceAccountName;
    if (!account || account === 'default') problems.push(`${where}: no serviceAccountName of its own`);
    else if (!find('ServiceAccount', account)) problems.push(`${where}: ServiceAccount ${account} is not rendered`);
    if (spec.startupProbe && !container.startupProbe) problems.push(`${where}: no startupProbe (model loading outlasts the liveness probe)`);

    const annotations = workload.spec.template.metadata?.annotations ?? {};
    if (annotations['prometheus.io/scrape'] !== 'true') problems.push(`${where}: pod is not annotated prometheus.io/scrape: "true"`);
    if (Number(annotations['prometheus.io/port']) !== metricsPort)
      problems.push(`${where}: prometheus.io/port ${annotations['prometheus.io/port']} is not METRICS_PORT ${metricsPort}`);

    const shutdownMs = ['SHUTDOWN_GRACE_MS', 'SHUTDOWN_DEADLINE_MS'].reduce(
      (sum, variable) => sum + Number(env.get(variable) ?? SHUTDOWN_DEFAULTS[variable]),
      0,
    );
    const graceSeconds = pod.terminationGracePeriodSeconds ?? 30;
    if (!(graceSeconds * 1000 > shutdownMs))
      problems.push(`${where}: terminationGracePeriodSeconds ${graceSeconds} does not exceed SHUTDOWN_GRACE_MS + SHUTDOWN_DEADLINE_MS (${shutdownMs} ms)`);

    if (spec.kind === 'Deployment') {
      const rolling = workload.spec.strategy?.rollingUpdate;
      if (workload.spec.strategy?.type !== 'RollingUpdate' || String(rolling?.maxUnavailable) !== '0')
        problems.push(`${where}: a rolling update must keep maxUnavailable 0 (readiness-gated)`);
    }

    // Where the service writes under a read-only root: a mounted volume (a claim, for the registry's data).
    const mountOf = (path) => (container.volumeMounts ?? []).find((mount) => mount.mountPath === path);
    const modelCache = env.get('MODEL_CACHE_DIR');
    if (modelCache && !mountOf(modelCache)) problems.push(`${where}: MODEL_CACHE_DIR ${modelCache} is not a mounted volume`);
    const dataDir = env.get('REGISTRY_DATA_DIR');
    if (dataDir) {
      const mount = mountOf(dataDir);
      const claims = (workload.spec.volumeClaimTemplates ?? []).map((claim) => claim.metadata.name);
      if (!mount || !claims.includes(mount.name)) problems.push(`${where}: REGISTRY_DATA_DIR ${dataDir} is not on a persistent volume claim`);
    }

    // The execution provider and the hardware must agree.
    const providers = (env.get('EXECUTION_PROVIDERS') ?? '').split(',').map((provider) => provider.trim());
    const gpus = container.resources?.limits?.['nvidia.com/gpu'];
    if (providers.includes('cuda') && !gpus) problems.push(`${where}: EXECUTION_PROVIDERS has cuda but the container has no nvidia.com/gpu limit`);
    if (gpus && !providers.includes('cuda'))
      problems.push(`${where}: the container gets a GPU but EXECUTION_PROVIDERS (${env.get('EXECUTION_PROVIDERS')}) does not use cuda`);

    // Addresses name a rendered Service, on a port that reaches the named service's gRPC port.
    for (const [variable, target] of Object.entries(ADDRESS_ENV)) {
      const address = env.get(variable);
      if (!address) continue;
      const [host, port] = address.replace(/^dns:\/\/\//, '').split(':');
      const service = find('Service', host.split('.')[0]);
      const servicePort = service?.spec?.ports?.find((entry) => entry.port === Number(port));
      const targetWorkload = workloads.find((candidate) => candidate.metadata.name === target);
      if (!service || !servicePort) problems.push(`${where}: ${variable}=${address} names no rendered Service port`);
      else if (!targetWorkload || !selectorMatches(service.spec.selector, podLabels(targetWorkload)))
        problems.push(`${where}: ${variable}=${address} does not select the ${target} pods`);
    }
    const nats = /^nats:\/\/([^:/]+):(\d+)/.exec(env.get('NATS_URL') ?? '');
    const natsService = nats && find('Service', nats[1].split('.')[0]);
    if (natsService && !natsService.spec.ports.some((entry) => entry.port === Number(nats[2])))
      problems.push(`${where}: NATS_URL ${env.get('NATS_URL')} names Service ${nats[1]} but not its port`);

    const pdb = byKind('PodDisruptionBudget').find((budget) => selectorMatches(budget.spec?.selector?.matchLabels, podLabels(workload)));
    if (spec.pdb && !pdb) problems.push(`${where}: no PodDisruptionBudget selects its pods`);
    if (!spec.pdb && pdb && spec.replicas === 1) problems.push(`${where}: a PodDisruptionBudget on a single replica blocks node drains`);
  }

  // Services reach pods: the selector matches a workload, every targetPort is one of its container ports.
  for (const service of byKind('Service')) {
    const where = `Service ${service.metadata.name}`;
    const target = workloads.find((workload) => selectorMatches(service.spec?.selector, podLabels(workload)));
    if (!target) {
      problems.push(`${where}: selects no rendered workload`);
      continue;
    }
    const containerPorts = target.spec.template.spec.containers.flatMap((container) => container.ports ?? []);
    for (const port of service.spec.ports ?? []) {
      const targetPort = port.targetPort ?? port.port;
      if (!containerPorts.some((entry) => entry.name === targetPort || entry.containerPort === targetPort)) {
        problems.push(`${where}: port ${port.name ?? port.port} targets ${targetPort}, which ${target.metadata.name} does not expose`);
      }
    }
  }

  // Autoscalers own the replica count of what they scale.
  for (const hpa of byKind('HorizontalPodAutoscaler')) {
    const ref = hpa.spec?.scaleTargetRef ?? {};
    const target = find(ref.kind, ref.name);
    if (!target) problems.push(`HorizontalPodAutoscaler ${hpa.metadata.name}: scales ${ref.kind} ${ref.name}, which is not rendered`);
    else if (target.spec.replicas !== undefined)
      problems.push(`HorizontalPodAutoscaler ${hpa.metadata.name}: ${ref.kind} ${ref.name} still sets replicas, which every apply would reset`);
    if (!(hpa.spec?.minReplicas <= hpa.spec?.maxReplicas))
      problems.push(`HorizontalPodAutoscaler ${hpa.metadata.name}: minReplicas ${hpa.spec?.minReplicas} exceeds maxReplicas ${hpa.spec?.maxReplicas}`);
  }

  // Observability: Prometheus Operator objects, the collector, the tracing endpoint, the dashboards.
  const podMonitors = byKind('PodMonitor');
  for (const monitor of podMonitors) {
    const where = `PodMonitor ${monitor.metadata.name}`;
    const selected = workloads.filter((workload) => labelSelectorMatches(monitor.spec?.selector, podLabels(workload)));
    if (selected.length === 0) problems.push(`${where}: selects no rendered workload`);
    for (const workload of selected) {
      const ports = workload.spec.template.spec.containers.flatMap((container) => container.ports ?? []).map((port) => port.name);
      for (const endpoint of monitor.spec.podMetricsEndpoints ?? [])
        if (!ports.includes(endpoint.port)) problems.push(`${where}: ${workload.metadata.name} has no container port named ${endpoint.port}`);
      if (monitor.spec.jobLabel && !(monitor.spec.jobLabel in podLabels(workload)))
        problems.push(`${where}: ${workload.metadata.name}'s pods lack the jobLabel ${monitor.spec.jobLabel}`);
    }
  }
  if (podMonitors.length > 0) {
    for (const [name, spec] of Object.entries(SERVICES)) {
      const workload = find(spec.kind, name);
      if (workload && !podMonitors.some((monitor) => labelSelectorMatches(monitor.spec?.selector, podLabels(workload))))
        problems.push(`${spec.kind} ${name}: no PodMonitor scrapes it`);
    }
  }
  for (const monitor of byKind('ServiceMonitor')) {
    const where = `ServiceMonitor ${monitor.metadata.name}`;
    const selected = byKind('Service').filter((service) => labelSelectorMatches(monitor.spec?.selector, service.metadata.labels));
    if (selected.length === 0) problems.push(`${where}: selects no rendered Service`);
    for (const service of selected) {
      for (const endpoint of monitor.spec.endpoints ?? [])
        if (!service.spec.ports?.some((port) => port.name === endpoint.port))
          problems.push(`${where}: Service ${service.metadata.name} has no port named ${endpoint.port}`);
    }
  }
  for (const rule of byKind('PrometheusRule')) {
    const where = `PrometheusRule ${rule.metadata.name}`;
    const groups = rule.spec?.groups ?? [];
    if (groups.length === 0) problems.push(`${where}: no rule groups`);
    for (const group of groups) {
      for (const entry of group.rules ?? []) {
        if (Boolean(entry.record) === Boolean(entry.alert) || !entry.expr)
          problems.push(`${where}: group ${group.name} has a rule that is not exactly one of record/alert with an expr`);
      }
    }
    if (rule.metadata.name === 'maas' && canonicalJson(groups) !== canonicalJson(parse(readFileSync(RULES_FILE, 'utf8')).groups)) {
      problems.push(`${where}: differs from observability/prometheus/maas-rules.yaml (run node scripts/gen-observability.mjs)`);
    }
  }
  for (const workload of workloads) {
    for (const container of workload.spec.template.spec.containers ?? []) {
      if (!String(container.image ?? '').includes('opentelemetry-collector')) continue;
      const where = `${workload.kind} ${workload.metadata.name}/${container.name}`;
      const configPath = (container.args ?? []).map((arg) => /^--config=(.+)$/.exec(arg)?.[1]).find(Boolean);
      const mount = configPath && (container.volumeMounts ?? []).find((entry) => configPath.startsWith(`${entry.mountPath}/`));
      const volume = mount && (workload.spec.template.spec.volumes ?? []).find((entry) => entry.name === mount.name);
      const configMap = volume?.configMap && find('ConfigMap', volume.configMap.name);
      const text = configMap?.data?.[configPath.slice(mount.mountPath.length + 1)];
      if (text === undefined) {
        problems.push(`${where}: its --config file is not a key of a rendered, mounted ConfigMap`);
        continue;
      }
      problems.push(...collectorProblems(where, parse(text), (name) => find('Service', name)));
    }
  }
  const sharedConfig = objects.find((object) => object.kind === 'ConfigMap' && /^maas-config(-|$)/.test(object.metadata.name));
  const otlp = /^https?:\/\/([a-z0-9-]+):(\d+)/.exec(sharedConfig?.data?.OTEL_EXPORTER_OTLP_ENDPOINT ?? '');
  if (otlp && !find('Service', otlp[1])?.spec?.ports?.some((port) => port.port === Number(otlp[2]))) {
    problems.push(
      `ConfigMap maas-config: OTEL_EXPORTER_OTLP_ENDPOINT names ${otlp[1]}:${otlp[2]} in this namespace, but no rendered Service answers there (add k8s/components/observability)`,
    );
  }
  const dashboardUids = new Set();
  for (const configMap of byKind('ConfigMap').filter((object) => object.metadata.labels?.grafana_dashboard === '1')) {
    for (const [key, text] of Object.entries(configMap.data ?? {})) {
      let dashboard;
      try {
        dashboard = JSON.parse(text);
      } catch {
        dashboard = undefined;
      }
      if (!dashboard?.uid || !Array.isArray(dashboard.panels)) problems.push(`ConfigMap ${configMap.metadata.name}: ${key} is not Grafana dashboard JSON`);
      else if (dashboardUids.has(dashboard.uid)) problems.push(`ConfigMap ${configMap.metadata.name}: dashboard uid ${dashboard.uid} appears twice`);
      else dashboardUids.add(dashboard.uid);
    }
  }

  problems.push(...rolloutProblems(objects, find, byKind));
  problems.push(...natsCredentialProblems(objects, find, workloads));

  return { problems, objects: objects.length, workloads: workloads.length };
}

/** Environment variables that carry a NATS credential (services/shared serverConfig, nats-server's config). */
const NATS_CREDENTIAL_ENV = /^NATS_(USER|PASSWORD|PASS|TOKEN|NKEY|NKEY_SEED|CREDS)$/;
/** A NATS URL with user information (nats://user:password@host): a credential in whatever holds the URL. */
const NATS_URL_WITH_USERINFO = /\bnats:\/\/[^\s/@"']+@/;
/** A credential line of a nats-server config file; its value must be a $VARIABLE (read from the environment). */
const NATS_CONF_CREDENTIAL = /^\s*(user|username|password|pass|token|nkey)\s*[:=]\s*("?)([^\s"#]+)\2/gim;

/**
 * NATS credentials live in Secrets only: no ConfigMap holds one (by name, or inside a NATS URL), no container
 * sets one as a literal or from a ConfigMap, the NATS server's config file takes them from its environment
 * (filled from a Secret), and every maas service reads the same Secret keys as the NATS server rendered with it.
 */
function natsCredentialProblems(objects, find, workloads) {
  const problems = [];
  for (const configMap of objects.filter((object) => object.kind === 'ConfigMap')) {
    for (const [key, value] of Object.entries(configMap.data ?? {})) {
      if (NATS_CREDENTIAL_ENV.test(key)) problems.push(`ConfigMap ${configMap.metadata.name}: holds the NATS credential ${key}; it belongs in a Secret`);
      if (NATS_URL_WITH_USERINFO.test(String(value))) problems.push(`ConfigMap ${configMap.metadata.name}: ${key} has a NATS URL with credentials in it`);
    }
  }
  /** The Secret key each credential variable of `container` reads (problems for any other source). */
  const credentialSources = (where, container) => {
    const sources = new Map();
    for (const variable of container.env ?? []) {
      if (NATS_URL_WITH_USERINFO.test(String(variable.value ?? ''))) problems.push(`${where}: env ${variable.name} has a NATS URL with credentials in it`);
      if (!NATS_CREDENTIAL_ENV.test(variable.name)) continue;
      const ref = variable.valueFrom?.secretKeyRef;
      if (!ref) problems.push(`${where}: env ${variable.name} is a NATS credential but does not come from a Secret (secretKeyRef)`);
      else sources.set(variable.name, `${ref.name}/${ref.key}`);
    }
    return sources;
  };
  const natsServers = [];
  for (const workload of workloads) {
    for (const container of workload.spec?.template?.spec?.containers ?? []) {
      const where = `${workload.kind} ${workload.metadata.name} container ${container.name}`;
      const sources = credentialSources(where, container);
      if (!/^nats[:@]/.test(container.image ?? '')) continue;
      // The server's config files: every credential in them must be a $VARIABLE that a Secret fills.
      const mounted = new Set(container.volumeMounts?.map((mount) => mount.name) ?? []);
      const configMaps = (workload.spec.template.spec.volumes ?? [])
        .filter((volume) => mounted.has(volume.name) && volume.configMap)
        .map((volume) => find('ConfigMap', volume.configMap.name))
        .filter(Boolean);
      let authenticates = false;
      for (const configMap of configMaps) {
        for (const [key, text] of Object.entries(configMap.data ?? {})) {
          for (const [, field, , value] of String(text).matchAll(NATS_CONF_CREDENTIAL)) {
            authenticates = true;
            if (!value.startsWith('$')) {
              problems.push(
                `ConfigMap ${configMap.metadata.name}: ${key} sets ${field} literally; take it from the environment ($VARIABLE) filled from a Secret`,
              );
            } else if (!sources.has(value.slice(1))) {
              problems.push(`${where}: ${key} reads ${value}, which the container does not take from a Secret`);
            }
          }
        }
      }
      if (authenticates) natsServers.push({ where, sources });
    }
  }
  // The services authenticate to the NATS rendered with them with the Secret keys its server reads.
  for (const server of natsServers) {
    for (const [name, spec] of Object.entries(SERVICES)) {
      const workload = find(spec.kind, name);
      const container = workload?.spec?.template?.spec?.containers?.[0];
      if (!container) continue;
      const sources = credentialSources(`${spec.kind} ${name}`, container);
      for (const [variable, source] of server.sources) {
        if (sources.get(variable) !== source) {
          problems.push(
            `${spec.kind} ${name}: ${variable} ${sources.has(variable) ? `reads ${sources.get(variable)}` : 'is not set'}, but ${server.where} reads ${source}`,
          );
        }
      }
    }
  }
  return [...new Set(problems)];
}

/** What the rollout controller must be able to do (services/rollout-controller/src/kube-rollout-store.ts). */
const CONTROLLER_NEEDS = [
  { apiGroup: 'maas.dev', resource: 'modelrollouts', verbs: ['get', 'list', 'watch'] },
  { apiGroup: 'maas.dev', resource: 'modelrollouts/status', verbs: ['update'] },
  { apiGroup: '', resource: 'events', verbs: ['create'] },
];

/**
 * components/rollouts: every ModelRollout has a rendered CRD that serves its version; the controller's service
 * account is bound to a Role that grants what it calls and nothing with wildcards; more than one replica needs
 * leader election, and the Role must allow the Lease it uses.
 */
function rolloutProblems(objects, find, byKind) {
  const problems = [];
  const crds = byKind('CustomResourceDefinition');
  for (const rollout of byKind('ModelRollout')) {
    const [group, version] = String(rollout.apiVersion).split('/');
    const crd = crds.find((entry) => entry.spec?.group === group && entry.spec?.names?.kind === 'ModelRollout');
    if (!crd)
      problems.push(`ModelRollout ${rollout.metadata.name}: no CustomResourceDefinition for ${rollout.apiVersion} is rendered (add k8s/components/rollouts)`);
    else if (!crd.spec.versions?.some((entry) => entry.name === version && entry.served))
      problems.push(`ModelRollout ${rollout.metadata.name}: the CRD serves no version ${version}`);
  }
  for (const crd of crds.filter((entry) => entry.spec?.names?.kind === 'ModelRollout')) {
    for (const version of crd.spec.versions ?? []) {
      if (!version.subresources?.status)
        problems.push(`CustomResourceDefinition ${crd.metadata.name} ${version.name}: no status subresource (the controller writes status through /status)`);
      const columns = (version.additionalPrinterColumns ?? []).map((column) => column.name);
      for (const column of ['Model', 'Stable', 'Candidate', 'Weight', 'Phase', 'Age'])
        if (!columns.includes(column)) problems.push(`CustomResourceDefinition ${crd.metadata.name} ${version.name}: no ${column} printer column`);
    }
  }
  const controller = find('Deployment', 'rollout-controller');
  if (!controller) return problems;
  const where = 'Deployment rollout-controller';
  const pod = controller.spec.template.spec;
  const env = new Map((pod.containers?.[0]?.env ?? []).map((variable) => [variable.name, variable.value]));
  const account = pod.serviceAccountName;
  if (!account || !find('ServiceAccount', account)) problems.push(`${where}: its serviceAccountName ${account} is not rendered`);
  const roles = byKind('RoleBinding')
    .filter((binding) => binding.subjects?.some((subject) => subject.kind === 'ServiceAccount' && subject.name === account) && binding.roleRef?.kind === 'Role')
    .map((binding) => find('Role', binding.roleRef.name))
    .filter(Boolean);
  const rules = roles.flatMap((role) => role.rules ?? []);
  for (const rule of rules) {
    if ([...(rule.verbs ?? []), ...(rule.resources ?? []), ...(rule.apiGroups ?? [])].includes('*'))
      problems.push(`${where}: its Role grants a wildcard (least privilege: name groups, resources and verbs)`);
  }
  const allows = (apiGroup, resource, verb, name) =>
    rules.some(
      (rule) =>
        rule.apiGroups?.includes(apiGroup) &&
        rule.resources?.includes(resource) &&
        rule.verbs?.includes(verb) &&
        (!rule.resourceNames || (name !== undefined && rule.resourceNames.includes(name))),
    );
  for (const need of CONTROLLER_NEEDS) {
    for (const verb of need.verbs)
      if (!allows(need.apiGroup, need.resource, verb)) problems.push(`${where}: its service account may not ${verb} ${need.resource}`);
  }
  if (env.get('ROLLOUT_SOURCE') !== 'kubernetes') problems.push(`${where}: ROLLOUT_SOURCE is not kubernetes`);
  if ((controller.spec.replicas ?? 1) > 1) {
    if (env.get('LEADER_ELECTION') !== 'true')
      problems.push(`${where}: ${controller.spec.replicas} replicas without LEADER_ELECTION=true would both drive the registry`);
    const lease = env.get('LEASE_NAME') ?? 'maas-rollout-controller';
    if (
      !allows('coordination.k8s.io', 'leases', 'create') ||
      !allows('coordination.k8s.io', 'leases', 'get', lease) ||
      !allows('coordination.k8s.io', 'leases', 'update', lease)
    ) {
      problems.push(`${where}: its service account may not create, get and update the Lease ${lease}`);
    }
  }
  if (pod.automountServiceAccountToken === false) problems.push(`${where}: automountServiceAccountToken is false, so it cannot reach the API`);
  return problems;
}

function main(args) {
  if (args.length === 0) {
    console.error('usage: node k8s/check-manifests.mjs <overlay>=<rendered.yaml> [...]');
    return 2;
  }
  let failed = 0;
  for (const arg of args) {
    const [overlay, file] = arg.includes('=') ? arg.split('=', 2) : [arg, arg];
    const documents = parseAllDocuments(readFileSync(file, 'utf8'));
    const parseErrors = documents.flatMap((document) => document.errors.map((error) => error.message));
    const objects = documents.map((document) => document.toJS()).filter((object) => object && typeof object === 'object');
    const { problems, workloads } = parseErrors.length > 0 ? { problems: parseErrors, workloads: 0 } : checkRendered(objects);
    if (problems.length === 0) {
      console.log(`ok   ${overlay}: ${objects.length} objects, ${workloads} workloads`);
    } else {
      failed += 1;
      console.log(`FAIL ${overlay}: ${problems.length} problem(s)`);
      for (const problem of problems) console.log(`     - ${problem}`);
    }
  }
  return failed > 0 ? 1 : 0;
}

// Run as a script; importing the module (a test calling checkRendered) runs nothing.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
