/**
 * `npm start`: runs the whole mesh on this machine as four processes, registers the example packages when the
 * registry is empty (sentiment 1 as stable), and prints a sample call. Ctrl-C stops every service cleanly.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createLogger, onShutdownSignal } from '@maas/shared';
import { classify, DEFAULT_GATEWAY_ADDRESS } from './classify-command.js';
import { startLocalMesh, STANDARD_PORTS } from './local-mesh.js';
import { listModels, registerPackage, setRollout } from './registry-commands.js';

const ROOT_DIR = path.resolve(__dirname, '..', '..');
const MODEL_REPOSITORY = path.join(ROOT_DIR, 'models', 'dist');
/** What a fresh registry gets, and which version of each takes the traffic. */
const EXAMPLES = [
  { model: 'sentiment', versions: ['1', '2'], stable: '1' },
  { model: 'encoder-bench', versions: ['1'], stable: '1' },
];
const SAMPLE_TEXTS = ['What a wonderful film, I loved it', 'Never again. Cold food and rude staff.'];

function ensureExampleModels(): void {
  const missing = EXAMPLES.some(({ model, versions }) => versions.some((version) => !existsSync(path.join(MODEL_REPOSITORY, model, version, 'maas.json'))));
  if (!missing) return;
  console.log('maas: building the example model packages (npm run models) ...');
  const result = spawnSync(process.execPath, [path.join(ROOT_DIR, 'models', 'build', 'cli.js')], { cwd: ROOT_DIR, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`building the example models failed (exit ${result.status})`);
}

async function registerExamplesIfEmpty(registryAddress: string): Promise<void> {
  if ((await listModels({ registryAddress })).models.length > 0) return;
  for (const { model, versions, stable } of EXAMPLES) {
    for (const version of versions) {
      const registered = await registerPackage({ registryAddress, packageDir: path.join(MODEL_REPOSITORY, model, version) });
      console.log(`maas: registered ${registered.model} ${registered.version}`);
    }
    await setRollout({ registryAddress, model, stableVersion: stable });
    console.log(`maas: rollout ${model}: stable ${stable}`);
  }
}

/** The services load the new rollout asynchronously (event or resync, then fetch, verify, warm up). */
async function firstClassify(gatewayAddress: string, timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await classify({ gatewayAddress, model: 'sentiment', texts: SAMPLE_TEXTS, timeoutMs: 10_000 });
    } catch (error) {
      if (Date.now() > end) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function main(): Promise<void> {
  ensureExampleModels();
  const logger = createLogger({ service: 'maas-start', level: 'info' });
  const mesh = await startLocalMesh({
    rootDir: ROOT_DIR,
    dataDir: path.join(ROOT_DIR, '.maas'),
    ports: STANDARD_PORTS,
    // The console shows warnings and errors (e.g. "NATS unreachable: running on registry resync alone");
    // LOG_LEVEL=info shows every service's full log.
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
    onLine: (service, line) => console.log(`[${service}] ${line}`),
  });
  onShutdownSignal({ logger, stop: () => mesh.stop() });
  console.log(`maas: services SERVING — gateway ${mesh.addresses.gateway}, tokenizer ${mesh.addresses.tokenizer}, inference ${mesh.addresses.inference}, registry ${mesh.addresses['model-registry']}`);
  await registerExamplesIfEmpty(mesh.addresses['model-registry']);
  const gatewayAddress = mesh.addresses.gateway;
  const response = await firstClassify(gatewayAddress, 60_000);
  const quoted = SAMPLE_TEXTS.map((text) => JSON.stringify(text)).join(' ');
  const gatewayOption = gatewayAddress === DEFAULT_GATEWAY_ADDRESS ? '' : ` --gateway ${gatewayAddress}`;
  console.log(`\nmaas: ready. Try:\n\n  npx maasctl classify sentiment ${quoted}${gatewayOption}\n`);
  response.predictions.forEach((prediction, index) =>
    console.log(`  ${prediction.label.padEnd(8)} ${prediction.score.toFixed(4)}  v${prediction.model_version}  ${SAMPLE_TEXTS[index]}`),
  );
  console.log(`\n  npx maasctl models\n  npx maasctl rollout sentiment --stable 1 --canary 2 --weight 20\n\nCtrl-C stops the mesh.`);
}

main().catch((error: unknown) => {
  console.error(`maas: start failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
