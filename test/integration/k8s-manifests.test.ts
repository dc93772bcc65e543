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

/** The cpu overlay rendered, as objects, and the checker (an ES module). */
async function renderedCpu() {
  const { parseAllDocuments } = await import('yaml');
  const rendered = spawnSync('kubectl', ['kustomize', path.join(ROOT_DIR, 'k8s', 'overlays', 'cpu')], { encoding: 'utf8' });
  const objects = parseAllDocuments(rendered.stdout).map((document) => document.toJS()) as Array<Record<string, any>>;
  const checker = (await import(pathToFileURL(path.join(ROOT_DIR, 'k8s', 'check-manifests.mjs')).href)) as {
    checkRendered(objects: unknown[]): { problems: string[] };
  };
  return { objects, checkRendered: checker.checkRendered };
}

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
