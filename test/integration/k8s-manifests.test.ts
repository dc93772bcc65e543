// The Kubernetes manifests render with kustomize (offline) and every workload passes k8s/check-manifests.mjs.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import test from 'ava';
import { ROOT_DIR } from '../support/example-models.js';

const hasRenderer = ['kubectl', 'kustomize'].some((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0);

// kubectl or kustomize renders the overlays; without either the test is reported as skipped (with why), not passed.
(hasRenderer ? test : test.skip)(
  `every overlay renders and passes the manifest checks${hasRenderer ? '' : ' (skipped: neither kubectl nor kustomize is installed)'}`,
  (t) => {
    const result = spawnSync('bash', [path.join(ROOT_DIR, 'k8s', 'check.sh')], { encoding: 'utf8' });
    t.is(result.status, 0, `${result.stdout}\n${result.stderr}`);
    for (const overlay of ['cpu', 'gpu', 'dev']) t.regex(result.stdout, new RegExp(`ok\\s+${overlay}:`));
  },
);

/** An overlay rendered, as objects, and the checker (an ES module). */
async function renderedOverlay(overlay: string) {
  const { parseAllDocuments } = await import('yaml');
  const rendered = spawnSync('kubectl', ['kustomize', path.join(ROOT_DIR, 'k8s', 'overlays', overlay)], { encoding: 'utf8' });
  const objects = parseAllDocuments(rendered.stdout).map((document) => document.toJS()) as Array<Record<string, any>>;
  const checker = (await import(pathToFileURL(path.join(ROOT_DIR, 'k8s', 'check-manifests.mjs')).href)) as {
    checkRendered(objects: unknown[]): { problems: string[] };
  };
  return { objects, checkRendered: checker.checkRendered };
}

const renderedCpu = () => renderedOverlay('cpu');

const hasKubectl = spawnSync('sh', ['-c', 'command -v kubectl']).status === 0;

(hasKubectl ? test : test.skip)(
  'the checker catches a drifted PrometheusRule, a broken collector pipeline, a PodMonitor on a missing port and a tracing endpoint with no collector',
  async (t) => {
    const { objects, checkRendered } = await renderedCpu();
    t.deepEqual(checkRendered(objects).problems, []);
    const kind = (name: string) => objects.filter((object) => object.kind === name);

    const rule = structuredClone(kind('PrometheusRule')[0]!);
    rule.spec.groups[0].rules[0].expr = 'vector(1)';
    const podMonitor = structuredClone(kind('PodMonitor')[0]!);
    podMonitor.spec.podMetricsEndpoints[0].port = 'prometheus';
    const collectorConfig = structuredClone(objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith('otel-collector-config'))!);
    collectorConfig.data['config.yaml'] = collectorConfig.data['config.yaml'].replace(
      'processors: [memory_limiter, k8sattributes, tail_sampling, batch]',
      'processors: [memory_limiter, resourcedetection, batch]',
    );
    const replaced = new Map<unknown, unknown>([
      [kind('PrometheusRule')[0], rule],
      [kind('PodMonitor')[0], podMonitor],
      [objects.find((object) => object.metadata?.name === collectorConfig.metadata.name), collectorConfig],
    ]);
    const problems = checkRendered(objects.map((object) => replaced.get(object) ?? object)).problems.join('\n');
    t.regex(problems, /PrometheusRule maas: differs from observability\/prometheus\/maas-rules.yaml/);
    t.regex(problems, /PodMonitor maas: gateway has no container port named prometheus/);
    t.regex(problems, /pipeline traces names processor resourcedetection, which is not defined/);

    const withoutCollector = objects.filter((object) => !(object.kind === 'Service' && object.metadata.name === 'otel-collector'));
    t.regex(
      checkRendered(withoutCollector).problems.join('\n'),
      /OTEL_EXPORTER_OTLP_ENDPOINT names otel-collector:4318 in this namespace, but no rendered Service answers there/,
    );
  },
);

(hasKubectl ? test : test.skip)(
  'NATS credentials come from the Secret maas-nats only, for the services and the NATS server alike; the checker catches one anywhere else',
  async (t) => {
    const { objects, checkRendered } = await renderedOverlay('dev');
    t.deepEqual(checkRendered(objects).problems, []);
    const workload = (name: string) => objects.find((object) => ['Deployment', 'StatefulSet'].includes(object.kind) && object.metadata.name === name)!;
    const credentialEnv = (name: string) =>
      (workload(name).spec.template.spec.containers[0].env as Array<Record<string, any>>).filter((variable) => /^NATS_(USER|PASSWORD)$/.test(variable.name));
    for (const name of ['gateway', 'tokenizer', 'inference', 'model-registry', 'nats']) {
      t.deepEqual(
        credentialEnv(name).map((variable) => [variable.name, variable.value, variable.valueFrom?.secretKeyRef?.name, variable.valueFrom?.secretKeyRef?.key]),
        [
          ['NATS_USER', undefined, 'maas-nats', 'user'],
          ['NATS_PASSWORD', undefined, 'maas-nats', 'password'],
        ],
        name,
      );
    }
    // The server's config takes its user from the environment; nothing in the repository is the credential.
    const natsConfig = objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith('nats-config'))!;
    t.regex(natsConfig.data['nats.conf'], /password: \$NATS_PASSWORD/);
    t.false(
      objects.some((object) => object.kind === 'Secret' && object.metadata.name === 'maas-nats'),
      'the Secret is created in the cluster, not rendered',
    );

    const mutate = (change: (copy: Array<Record<string, any>>) => void) => {
      const copy = structuredClone(objects);
      change(copy);
      return checkRendered(copy).problems.join('\n');
    };
    const find = (copy: Array<Record<string, any>>, kind: string, prefix: string) =>
      copy.find((object) => object.kind === kind && object.metadata.name.startsWith(prefix))!;
    const containerOf = (copy: Array<Record<string, any>>, kind: string, name: string) => find(copy, kind, name).spec.template.spec.containers[0];
    t.regex(
      mutate((copy) => {
        const env = containerOf(copy, 'Deployment', 'gateway').env as Array<Record<string, any>>;
        env[env.findIndex((variable) => variable.name === 'NATS_PASSWORD')] = { name: 'NATS_PASSWORD', value: 'hunter2' };
      }),
      /Deployment gateway container gateway: env NATS_PASSWORD is a NATS credential but does not come from a Secret/,
    );
    t.regex(
      mutate((copy) => {
        find(copy, 'ConfigMap', 'maas-config').data.NATS_URL = 'nats://maas:hunter2@nats:4222';
      }),
      /ConfigMap maas-config-\S+: NATS_URL has a NATS URL with credentials in it/,
    );
    t.regex(
      mutate((copy) => {
        find(copy, 'ConfigMap', 'maas-config').data.NATS_PASSWORD = 'hunter2';
      }),
      /ConfigMap maas-config-\S+: holds the NATS credential NATS_PASSWORD; it belongs in a Secret/,
    );
    t.regex(
      mutate((copy) => {
        const config = find(copy, 'ConfigMap', 'nats-config');
        config.data['nats.conf'] = config.data['nats.conf'].replace('password: $NATS_PASSWORD', 'password: hunter2');
      }),
      /ConfigMap nats-config-\S+: nats.conf sets password literally/,
    );
    t.regex(
      mutate((copy) => {
        const env = containerOf(copy, 'StatefulSet', 'model-registry').env as Array<Record<string, any>>;
        env.find((variable) => variable.name === 'NATS_PASSWORD')!.valueFrom.secretKeyRef.name = 'other-secret';
      }),
      /StatefulSet model-registry: NATS_PASSWORD reads other-secret\/password, but StatefulSet nats container nats reads maas-nats\/password/,
    );
  },
);
