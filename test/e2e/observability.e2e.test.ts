// Alerts and dashboards as code, checked against the real thing: promtool checks and unit-tests the rules, and
// every metric a rule or a dashboard query names must be one a running mesh exports (or a recording rule).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { classify, freePort, registerPackage, setRollout, STANDARD_PORTS } from '@maas/cli';
import { createServiceMetrics, startMetricsServer } from '@maas/shared';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import test from 'ava';
import { parse, parseAllDocuments } from 'yaml';
import { examplePackage, ROOT_DIR } from '../support/example-models.js';
import { startInProcessMesh } from '../support/in-process-mesh.js';
import { adminClient } from '../support/test-pki.js';

const RULES_DIR = path.join(ROOT_DIR, 'observability', 'prometheus');
const RULES_FILE = path.join(RULES_DIR, 'maas-rules.yaml');
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const OPENMETRICS_ACCEPT = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5';

const hasPromtool = spawnSync('sh', ['-c', 'command -v promtool']).status === 0;
const hasPrometheus = spawnSync('sh', ['-c', 'command -v prometheus']).status === 0;
/** In CI a missing promtool is a failure (.ci/run installs it); on a laptop the promtool tests say why they skip. */
const promtoolTest = hasPromtool || process.env.CI ? test : test.skip;
if (!hasPromtool && !process.env.CI) console.log('observability: promtool not on PATH (Debian: apt-get install prometheus); skipping the promtool checks');

function promtool(args: string[], input?: string) {
  const result = spawnSync('promtool', args, { cwd: RULES_DIR, encoding: 'utf8', input });
  if (result.error) throw new Error(`promtool could not run (${result.error.message}); .ci/run installs it from Debian's prometheus package`);
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

promtoolTest('promtool: the rules are valid and pass their unit tests', (t) => {
  const check = promtool(['check', 'rules', 'maas-rules.yaml']);
  t.true(check.ok, check.output);
  const files = readdirSync(path.join(RULES_DIR, 'tests')).filter((name) => name.endsWith('.test.yaml'));
  t.true(files.length >= 3, `rule test files: ${files.join(', ')}`);
  const tests = promtool(['test', 'rules', ...files.map((name) => path.join('tests', name))]);
  t.true(tests.ok, tests.output);
});

const PROMQL_WORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);

/** Metric names a PromQL expression reads: identifiers outside selectors, ranges, strings and label lists, not functions. */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const rest = stripped.slice(match.index! + match[0].length);
    if (/^\s*\(/.test(rest) || PROMQL_WORDS.has(match[0].toLowerCase())) continue;
    names.add(match[0]);
  }
  // label_values(metric, label): the label is not a metric.
  for (const [, label] of expr.matchAll(/label_values\([^,]+,\s*([a-zA-Z_]+)\s*\)/g)) names.delete(label!);
  return [...names];
}

test('every alert has a summary, a description and a runbook that is a heading of the README', (t) => {
  const readme = readFileSync(path.join(ROOT_DIR, 'README.md'), 'utf8');
  const anchors = new Set(
    [...readme.matchAll(/^#+ (.+)$/gm)].map(([, heading]) =>
      heading!
        .toLowerCase()
        .replace(/[^a-z0-9 -]/g, '')
        .replace(/ /g, '-'),
    ),
  );
  const groups = parse(readFileSync(RULES_FILE, 'utf8')).groups as Array<{ rules: Array<{ alert?: string; annotations?: Record<string, string> }> }>;
  const alerts = groups.flatMap((group) => group.rules).filter((rule) => rule.alert);
  t.true(alerts.length >= 15);
  for (const rule of alerts) {
    t.truthy(rule.annotations?.summary && rule.annotations.description, `${rule.alert}: summary and description`);
    const runbook = rule.annotations?.runbook;
    if (runbook === undefined) continue; // MaasServiceDown: the target itself is the story
    t.true(runbook.startsWith('README.md#') && anchors.has(runbook.slice('README.md#'.length)), `${rule.alert}: runbook ${runbook} is no README heading`);
  }
});

test('metricNamesIn finds metrics, not functions, labels or keywords', (t) => {
  t.deepEqual(
    metricNamesIn('sum by (model) (rate(maas_x_total{code=~"A|B",maas_service!=""}[5m])) or 0 * a:b:c > on (model) group_left (role) up and vector(1)').sort(),
    ['a:b:c', 'maas_x_total', 'up'],
  );
  t.deepEqual(metricNamesIn('label_values(maas_gateway_routable_versions{model="$model"}, version)'), ['maas_gateway_routable_versions']);
});

/** Sample names a /metrics text exposes, from its TYPE lines (so labelled metrics count before their first sample). */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(`${name}${suffix}`);
    else names.add(name!);
  }
  return names;
}

/** Every PromQL expression of the rules and the dashboards, with where it comes from. */
async function expressions(): Promise<{ records: Set<string>; queries: Array<{ where: string; expr: string }> }> {
  const groups = parse(readFileSync(RULES_FILE, 'utf8')).groups as Array<{ name: string; rules: Array<{ record?: string; alert?: string; expr: string }> }>;
  const records = new Set<string>();
  const queries: Array<{ where: string; expr: string }> = [];
  for (const group of groups) {
    for (const rule of group.rules) {
      if (rule.record) records.add(rule.record);
      queries.push({ where: `rule ${rule.record ?? rule.alert}`, expr: rule.expr });
    }
  }
  const { dashboards } = (await import(pathToFileURL(path.join(ROOT_DIR, 'observability', 'grafana', 'dashboards.mjs')).href)) as {
    dashboards: Array<{
      uid: string;
      variables: Array<{ query: string }>;
      rows: Array<{ panels: Array<{ title: string; targets: Array<{ expr: string }> }> }>;
    }>;
  };
  for (const dashboard of dashboards) {
    for (const variable of dashboard.variables) queries.push({ where: `dashboard ${dashboard.uid} variable`, expr: variable.query });
    for (const panel of dashboard.rows.flatMap((row) => row.panels)) {
      for (const target of panel.targets) queries.push({ where: `dashboard ${dashboard.uid} panel "${panel.title}"`, expr: target.expr });
    }
  }
  return { records, queries };
}

test.serial('every metric the rules and dashboards name is exported by a running mesh; the exposition is well-formed', async (t) => {
  const mesh = await startInProcessMesh({ env: { NATS_URL, METRICS_PORT: '0', RESYNC_INTERVAL_MS: '600000', RESYNC_INTERVAL_NO_NATS_MS: '300' } });
  t.teardown(() => mesh.stop());
  for (const version of ['1', '2'])
    await registerPackage({ client: adminClient(), registryAddress: mesh.addresses.registry, packageDir: examplePackage('sentiment', version) });
  await setRollout({
    client: adminClient(),
    registryAddress: mesh.addresses.registry,
    model: 'sentiment',
    stableVersion: '1',
    canaryVersion: '2',
    canaryWeight: 50,
  });
  // Traffic until both versions have answered: routed, batch, queue and per-version series exist then.
  const answered = new Set<string>();
  const deadline = Date.now() + 30_000;
  while (answered.size < 2 && Date.now() < deadline) {
    try {
      const response = await classify({
        client: mesh.clientOptions(),
        gatewayAddress: mesh.addresses.gateway,
        model: 'sentiment',
        texts: ['a fine film', 'dull'],
        timeoutMs: 5_000,
      });
      answered.add(response.predictions[0]!.model_version);
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  t.deepEqual([...answered].sort(), ['1', '2'], 'both versions answered');
  await t.throwsAsync(
    classify({ client: mesh.clientOptions(), gatewayAddress: mesh.addresses.gateway, model: 'no-such-model', texts: ['x'], timeoutMs: 5_000 }),
  );

  const services = {
    gateway: mesh.metricsPorts.gateway,
    tokenizer: mesh.metricsPorts.tokenizer,
    inference: mesh.metricsPorts.inference,
    'model-registry': mesh.metricsPorts.registry,
  };
  const exported = new Set<string>(['up', 'ALERTS']); // written by Prometheus itself
  const texts: Record<string, string> = {};
  for (const [service, port] of Object.entries(services)) {
    const url = `http://127.0.0.1:${port}/metrics`;
    const text = await (await fetch(url)).text();
    texts[service] = text;
    for (const name of exposedNames(text)) exported.add(name);
    t.regex(text, new RegExp(`^maas_build_info\\{version="[^"]+",node_version="[^"]+",maas_service="${service}"\\} 1$`, 'm'), `${service} build info`);
    t.notRegex(text, /[{,]service="/, `${service}: no label named service (Prometheus Operator's target label)`);
    const openMetrics = await fetch(url, { headers: { accept: OPENMETRICS_ACCEPT } });
    t.regex(openMetrics.headers.get('content-type') ?? '', /^application\/openmetrics-text/);
    t.true((await openMetrics.text()).endsWith('# EOF\n'), `${service} OpenMetrics ends with # EOF`);
  }
  // One spelling for a model the gateway does not know.
  const gatewayRequests = texts
    .gateway!.split('\n')
    .filter((line) => line.startsWith('maas_gateway_requests_total'))
    .join('\n');
  t.regex(gatewayRequests, /maas_gateway_requests_total\{method="Classify",model="_unknown",code="NOT_FOUND",maas_service="gateway"\} 1/);
  // The load-time buckets reach the inference startupProbe's whole budget (period × failureThreshold).
  type Deployment = {
    kind: string;
    spec: { template: { spec: { containers: Array<{ startupProbe: { periodSeconds: number; failureThreshold: number } }> } } };
  };
  const documents = parseAllDocuments(readFileSync(path.join(ROOT_DIR, 'k8s', 'base', 'inference.yaml'), 'utf8')).map(
    (document) => document.toJS() as Deployment,
  );
  const probe = documents.find((object) => object.kind === 'Deployment')!.spec.template.spec.containers[0]!.startupProbe;
  const buckets = [...texts.inference!.matchAll(/^maas_inference_model_load_seconds_bucket\{le="([0-9.]+)"/gm)].map((match) => Number(match[1]));
  t.true(Math.max(...buckets) >= probe.periodSeconds * probe.failureThreshold, `largest model load bucket ${Math.max(...buckets)} s < startupProbe budget`);

  const { records, queries } = await expressions();
  const missing: string[] = [];
  for (const { where, expr } of queries) {
    const names = metricNamesIn(expr);
    if (names.length === 0) missing.push(`${where}: names no metric (${expr})`);
    for (const name of names) if (!(name.includes(':') ? records.has(name) : exported.has(name))) missing.push(`${where}: ${name}`);
  }
  t.deepEqual(missing, [], `metrics named but not exported (or not recorded):\n${missing.join('\n')}`);
  t.true(queries.length > 60, `${queries.length} expressions checked`);

  // promtool's lint of our own families (the runtime's default metrics are prom-client's naming, not ours).
  if (hasPromtool) {
    for (const [service, text] of Object.entries(texts)) {
      const ours = text
        .split('\n\n')
        .filter((family) => /^# HELP maas_/.test(family))
        .join('\n\n');
      const lint = promtool(['check', 'metrics'], `${ours}\n`);
      t.true(lint.ok, `${service}: ${lint.output}`);
    }
  }
});

test('the local Prometheus config scrapes the standard metrics ports under the job names the rules use, with the same rules', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'maas-prom-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const result = spawnSync(process.execPath, [path.join(ROOT_DIR, 'scripts', 'local-prometheus.mjs'), '--config-only', '--data-dir', dir], {
    encoding: 'utf8',
  });
  t.is(result.status, 0, result.stderr);
  const config = parse(readFileSync(path.join(dir, 'prometheus.yml'), 'utf8')) as {
    rule_files: string[];
    scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
  };
  t.deepEqual(config.rule_files, [RULES_FILE]);
  t.deepEqual(
    Object.fromEntries(config.scrape_configs.map((scrape) => [scrape.job_name, scrape.static_configs[0]!.targets[0]])),
    Object.fromEntries(Object.entries(STANDARD_PORTS).map(([service, ports]) => [service, `127.0.0.1:${ports.metrics}`])),
  );
  if (hasPromtool) {
    writeFileSync(path.join(dir, 'check.yml'), readFileSync(path.join(dir, 'prometheus.yml')));
    const check = promtool(['check', 'config', path.join(dir, 'check.yml')]);
    t.true(check.ok, check.output);
  }
});

(hasPrometheus || process.env.CI ? test.serial : test.skip)('a real Prometheus scrapes our OpenMetrics and stores the trace exemplars', async (t) => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider());
  t.teardown(() => {
    trace.disable();
    context.disable();
  });
  const metrics = createServiceMetrics({ service: 'gateway' });
  const traceId = trace.getTracer('test').startActiveSpan('Classify', (span) => {
    metrics.requestDuration.observe({ method: 'Classify' }, 0.004);
    metrics.requests.inc({ method: 'Classify', code: 'OK' });
    span.end();
    return span.spanContext().traceId;
  });
  const server = await startMetricsServer({ registry: metrics.registry, port: 0, host: '127.0.0.1' });
  t.teardown(() => server.close());

  const dir = mkdtempSync(path.join(tmpdir(), 'maas-prom-'));
  const port = await freePort();
  const config = { global: { scrape_interval: '1s' }, scrape_configs: [{ job_name: 'gateway', static_configs: [{ targets: [`127.0.0.1:${server.port}`] }] }] };
  writeFileSync(path.join(dir, 'prometheus.yml'), JSON.stringify(config));
  const prometheus = spawn(
    'prometheus',
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--enable-feature=exemplar-storage',
      '--log.level=error',
    ],
    { stdio: 'ignore' },
  );
  t.teardown(async () => {
    prometheus.kill('SIGTERM');
    await new Promise((resolve) => prometheus.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  });
  const api = async (query: string) => (await (await fetch(`http://127.0.0.1:${port}/api/v1/${query}`)).json()) as { data: any };
  let seen: { health?: string; lastError?: string; exemplars?: unknown } = {};
  for (const end = Date.now() + 20_000; Date.now() < end;) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    try {
      const target = (await api('targets')).data.activeTargets[0];
      const now = Date.now() / 1000;
      const exemplars = (await api(`query_exemplars?query=maas_grpc_server_request_duration_seconds_bucket&start=${now - 300}&end=${now}`)).data;
      seen = { health: target?.health, lastError: target?.lastError, exemplars };
      if (seen.health === 'up' && Array.isArray(exemplars) && exemplars.length > 0) break;
    } catch {
      // not listening yet
    }
  }
  t.is(seen.health, 'up', `scrape error: ${seen.lastError}`);
  const stored = (seen.exemplars as Array<{ seriesLabels: Record<string, string>; exemplars: Array<{ labels: Record<string, string> }> }>) ?? [];
  t.deepEqual(
    stored.map((series) => [series.seriesLabels.le, series.seriesLabels.maas_service, series.exemplars[0]?.labels.trace_id]),
    [['0.005', 'gateway', traceId]],
  );
  const counter = (await api('query?query=maas_grpc_server_requests_total')).data.result as Array<{ value: [number, string] }>;
  t.is(counter[0]?.value[1], '1', 'counters keep their _total name through OpenMetrics');
});
