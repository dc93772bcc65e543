/**
 * `npm start`: runs the whole mesh on this machine as four processes, registers the example packages when the
 * registry is empty (sentiment 1 and 2, encoder-bench 1; sentiment 1 and encoder-bench 1 stable), and prints a
 * sample call.
 *
 * Stopping: SIGINT or SIGTERM to this process stops every service cleanly, whenever it comes (also while the
 * services are still starting). package.json's start script `exec`s this process, so npm's own PID works too:
 * npm forwards SIGINT and SIGTERM to its script, and without the `exec` the script's shell would take the
 * signal and die, leaving this process and the services running.
 *
 * Options (for a second mesh beside the first, and the tests): `--ports free` (any free ports instead of the
 * standard 50051–50054 / 9464–9467), `--data-dir DIR` (instead of `.maas`), `--replicas inference=2,tokenizer=2`
 * (several processes of a service; the gateway balances each call over them and retries on another when one
 * fails; env MAAS_REPLICAS takes the same).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ClientOptions } from '@maas/shared';
import { classify, DEFAULT_GATEWAY_ADDRESS, formatPredictions } from './classify-command.js';
import { MESH_SERVICES, startLocalMesh, STANDARD_PORTS, type LocalMesh } from './local-mesh.js';
import { DEFAULT_REGISTRY_ADDRESS, listModels, registerPackage, setRollout } from './registry-commands.js';

const ROOT_DIR = path.resolve(__dirname, '..', '..');
const MODEL_REPOSITORY = path.join(ROOT_DIR, 'models', 'dist');
/** What a fresh registry gets, and which version of each takes the traffic. */
const EXAMPLES = [
  { model: 'sentiment', versions: ['1', '2'], stable: '1' },
  { model: 'encoder-bench', versions: ['1'], stable: '1' },
];
const SAMPLE_TEXTS = ['What a wonderful film, I loved it', 'Never again. Cold food and rude staff.'];
/**
 * A terminal's Ctrl-C reaches npm and this process at once, and npm forwards its copy: the same signal twice
 * within milliseconds is one request to stop. A signal later than this means "stop now, without waiting".
 */
const DUPLICATE_SIGNAL_MS = 1000;

async function ensureExampleModels(signal: AbortSignal): Promise<void> {
  const missing = EXAMPLES.some(({ model, versions }) => versions.some((version) => !existsSync(path.join(MODEL_REPOSITORY, model, version, 'maas.json'))));
  if (!missing) return;
  console.log('maas: building the example model packages (npm run models) ...');
  const build = spawn(process.execPath, [path.join(ROOT_DIR, 'models', 'build', 'cli.js')], { cwd: ROOT_DIR, stdio: 'inherit', signal });
  const [code] = (await once(build, 'exit')) as [number | null];
  signal.throwIfAborted();
  if (code !== 0) throw new Error(`building the example models failed (exit ${code})`);
}

async function registerExamplesIfEmpty(registryAddress: string, client: ClientOptions): Promise<void> {
  if ((await listModels({ registryAddress, client })).models.length > 0) return;
  for (const { model, versions, stable } of EXAMPLES) {
    for (const version of versions) {
      const registered = await registerPackage({ registryAddress, client, packageDir: path.join(MODEL_REPOSITORY, model, version) });
      console.log(`maas: registered ${registered.model} ${registered.version}`);
    }
    await setRollout({ registryAddress, client, model, stableVersion: stable });
    console.log(`maas: rollout ${model}: stable ${stable}`);
  }
}

/** The services load the new rollout asynchronously (event or resync, then fetch, verify, warm up). */
async function firstClassify(gatewayAddress: string, options: { timeoutMs: number; signal: AbortSignal; client: ClientOptions }) {
  const end = Date.now() + options.timeoutMs;
  for (;;) {
    options.signal.throwIfAborted();
    try {
      return await classify({ gatewayAddress, model: 'sentiment', texts: SAMPLE_TEXTS, timeoutMs: 10_000, client: options.client });
    } catch (error) {
      if (Date.now() > end) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

function readOptions(): { freePorts: boolean; dataDir: string; replicas: Partial<Record<'tokenizer' | 'inference', number>> } {
  const { values } = parseArgs({ options: { ports: { type: 'string' }, 'data-dir': { type: 'string' }, replicas: { type: 'string' } }, strict: true });
  if (values.ports !== undefined && values.ports !== 'free') throw new Error(`--ports takes "free" (got ${JSON.stringify(values.ports)})`);
  return {
    freePorts: values.ports === 'free',
    dataDir: path.resolve(values['data-dir'] ?? path.join(ROOT_DIR, '.maas')),
    replicas: parseReplicas(values.replicas ?? process.env.MAAS_REPLICAS ?? ''),
  };
}

/** `inference=2,tokenizer=2` → counts; only tokenizer and inference may run several processes. */
function parseReplicas(text: string): Partial<Record<'tokenizer' | 'inference', number>> {
  const replicas: Partial<Record<'tokenizer' | 'inference', number>> = {};
  for (const part of text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const match = /^(tokenizer|inference)=(\d+)$/.exec(part);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 16)
      throw new Error(`--replicas takes service=count (tokenizer or inference, 1-16), e.g. inference=2,tokenizer=2 (got ${JSON.stringify(part)})`);
    replicas[match[1] as 'tokenizer' | 'inference'] = Number(match[2]);
  }
  return replicas;
}

/**
 * Installed before anything starts, so that a signal at any moment stops what runs: during the start it aborts
 * the start (which stops the services started so far), after it stops the mesh.
 */
function stopOnSignal(control: { abort: AbortController; stop: () => Promise<void> }): void {
  let firstAt: number | undefined;
  const handler = (signal: NodeJS.Signals) => {
    if (firstAt !== undefined) {
      if (Date.now() - firstAt < DUPLICATE_SIGNAL_MS) return;
      console.log(`maas: ${signal} again: exiting now`);
      process.exit(1); // each service child is SIGKILLed on exit (local-mesh.ts)
    }
    firstAt = Date.now();
    console.log(`maas: ${signal}: stopping the mesh`);
    control.abort.abort();
    control.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`maas: stop failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

function describeExits(mesh: LocalMesh): string {
  return MESH_SERVICES.map((service) => {
    const child = mesh.processes[service];
    return `${service} ${child.signalCode ? `killed by ${child.signalCode}` : `exit ${child.exitCode}`}`;
  }).join(', ');
}

/** Aborted by the first SIGINT or SIGTERM: every step of the start gives up, and the mesh is stopped. */
const abort = new AbortController();

async function main(): Promise<void> {
  let starting: Promise<LocalMesh> | undefined;
  stopOnSignal({
    abort,
    stop: async () => {
      const mesh = await starting?.catch(() => undefined);
      if (!mesh) return;
      await mesh.stop();
      console.log(`maas: stopped (${describeExits(mesh)})`);
    },
  });
  const { freePorts, dataDir, replicas } = readOptions();
  await ensureExampleModels(abort.signal);
  const logLevel = process.env.LOG_LEVEL ?? 'warn';
  console.log(`maas: starting the services with LOG_LEVEL=${logLevel}${process.env.LOG_LEVEL ? '' : ' (LOG_LEVEL=info npm start shows their full logs)'}`);
  starting = startLocalMesh({
    rootDir: ROOT_DIR,
    dataDir,
    ports: freePorts ? 'free' : STANDARD_PORTS,
    // The console shows the services' warnings and errors (e.g. "NATS unreachable: running on registry
    // resync alone"); LOG_LEVEL=info shows every service's full log.
    env: { LOG_LEVEL: logLevel },
    onLine: (service, line) => console.log(`[${service}] ${line}`),
    signal: abort.signal,
    replicas,
  });
  const mesh = await starting;
  const serving = MESH_SERVICES.map((service) =>
    mesh.replicas[service].map((replica) => `${service} ${replica.address} (pid ${replica.process.pid})`).join(', '),
  ).join(', ');
  console.log(`maas: services SERVING: ${serving}; data in ${dataDir}`);
  await registerExamplesIfEmpty(mesh.addresses['model-registry'], mesh.clientOptions);
  const gatewayAddress = mesh.addresses.gateway;
  const registryAddress = mesh.addresses['model-registry'];
  const response = await firstClassify(gatewayAddress, { timeoutMs: 60_000, signal: abort.signal, client: mesh.clientOptions });
  const quoted = SAMPLE_TEXTS.map((text) => JSON.stringify(text)).join(' ');
  const gatewayOption = gatewayAddress === DEFAULT_GATEWAY_ADDRESS ? '' : ` --gateway ${gatewayAddress}`;
  const registryOption = registryAddress === DEFAULT_REGISTRY_ADDRESS ? '' : ` --registry ${registryAddress}`;
  const sample = formatPredictions(SAMPLE_TEXTS, response)
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
  console.log(`\nmaas: ready. Try:\n\n  npx maasctl classify sentiment ${quoted}${gatewayOption}\n\n${sample}\n`);
  console.log(
    `  npx maasctl models${registryOption}\n  npx maasctl rollout sentiment --stable 1 --canary 2 --weight 20${registryOption}\n\nCtrl-C stops the mesh, and so does SIGINT or SIGTERM to npm or to this launcher (pid ${process.pid}).`,
  );
}

main().catch((error: unknown) => {
  // A signal during the start aborts it (later steps then fail against stopped services): the signal
  // handler reports the stop and exits.
  if (abort.signal.aborted) return;
  console.error(`maas: start failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
