#!/usr/bin/env node
// `npm run prometheus`: a real Prometheus (Debian's `prometheus` package) scraping the local mesh that
// `npm start` runs, with the same rules as the cluster (observability/prometheus/maas-rules.yaml), so an SRE
// can watch a metric, a recording rule or an alert on a laptop. http://127.0.0.1:9090 (Alerts tab: the maas
// alerts; Graph: any rule). Exemplars are stored (--enable-feature=exemplar-storage): a latency graph shows
// the trace ids of requests that landed in its buckets when traces are sampled.
//
//   npm run prometheus [-- --port 9090] [-- --data-dir .maas/prometheus] [-- --config-only]
//
// The targets are the standard metrics ports (DESIGN.md: 9464–9468, cli/src/local-mesh.ts STANDARD_PORTS)
// under the job names the rules and the PodMonitor use. Stop with Ctrl-C; the data stays in --data-dir.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** job → metrics port of `npm start` (cli/src/local-mesh.ts STANDARD_PORTS; the suite checks they agree). */
const TARGETS = { gateway: 9464, tokenizer: 9465, inference: 9466, 'model-registry': 9467, 'rollout-controller': 9468 };

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '9090' },
    'data-dir': { type: 'string', default: path.join(root, '.maas', 'prometheus') },
    'config-only': { type: 'boolean', default: false },
  },
});
const dataDir = path.resolve(values['data-dir']);
mkdirSync(dataDir, { recursive: true });
const configFile = path.join(dataDir, 'prometheus.yml');
const config = {
  // Short intervals: on a laptop one wants to see an alert move within a minute, not five.
  global: { scrape_interval: '5s', evaluation_interval: '5s' },
  rule_files: [path.join(root, 'observability', 'prometheus', 'maas-rules.yaml')],
  scrape_configs: Object.entries(TARGETS).map(([job, port]) => ({ job_name: job, static_configs: [{ targets: [`127.0.0.1:${port}`] }] })),
};
writeFileSync(configFile, `# Written by scripts/local-prometheus.mjs (npm run prometheus); rewritten at every start.\n${stringify(config)}`);
if (values['config-only']) {
  console.log(configFile);
  process.exit(0);
}

if (spawnSync('sh', ['-c', 'command -v prometheus']).status !== 0) {
  console.error('npm run prometheus: no `prometheus` on PATH. Install it (Debian/Ubuntu: sudo apt-get install prometheus), then run again.');
  process.exit(2);
}
const address = `127.0.0.1:${values.port}`;
console.log(`Prometheus on http://${address} scraping the local mesh (${Object.values(TARGETS).join(', ')}), rules: observability/prometheus/maas-rules.yaml`);
const child = spawn(
  'prometheus',
  [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${path.join(dataDir, 'data')}`,
    `--web.listen-address=${address}`,
    '--enable-feature=exemplar-storage',
    '--log.level=warn',
  ],
  { stdio: 'inherit' },
);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
