// Faults against the real mesh as processes (as `npm start --replicas inference=2,tokenizer=2` runs it), under
// load: 16 single-text Classify calls in flight all the time, one fault at a time. Each test prints its counts.
// Loopback only; no NATS (every service follows the registry by resync, every 500 ms).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import { registerPackage, setRollout, startLocalMesh, type LocalMesh, type LocalReplica } from '@maas/cli';
import { contracts, Status, type ClassifyResponse__Output, type GatewayClient } from '@maas/protos';
import { createClient, unaryCall, type ClientOptions } from '@maas/shared';
import anyTest, { type TestFn } from 'ava';
import { eventually } from '../support/eventually.js';
import { examplePackage, ROOT_DIR } from '../support/example-models.js';

const test = anyTest as TestFn<{ mesh: LocalMesh; gateway: GatewayClient; dataDir: string }>;
const IN_FLIGHT = 16;
const NO_NATS_INTERVAL_MS = 500;
/** The admin credential of the mesh's own local CA (made by startLocalMesh). */
let admin: ClientOptions = {};

test.before(async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'maas-faults-'));
  const mesh = await startLocalMesh({
    rootDir: ROOT_DIR,
    dataDir,
    ports: 'free',
    replicas: { inference: 2, tokenizer: 2 },
    // The load is one caller (one API key) at well over the gateway's default 1000 calls/s: its per-caller rate
    // limit is not what these tests are about (the security tests cover it), so it is off here.
    env: {
      LOG_LEVEL: 'error',
      NATS_URL: 'nats://127.0.0.1:1',
      RESYNC_INTERVAL_NO_NATS_MS: String(NO_NATS_INTERVAL_MS),
      READINESS_POLL_MS: '100',
      MODEL_RETRY_BACKOFF_MS: '500',
      RATE_LIMIT_RPS: '0',
    },
  });
  admin = mesh.clientOptions;
  t.context = { mesh, gateway: createClient(contracts().maas.v1.Gateway, mesh.addresses.gateway, admin), dataDir };
  const registryAddress = mesh.addresses['model-registry'];
  for (const version of ['1', '2']) await registerPackage({ client: admin, registryAddress, packageDir: examplePackage('sentiment', version) });
  // Version 2 loaded everywhere (a canary at weight 0), so switching to it later times propagation alone.
  await setRollout({ client: admin, registryAddress, model: 'sentiment', stableVersion: '1', canaryVersion: '2', canaryWeight: 0 });
  await eventually(
    'sentiment answering',
    () =>
      classify(t.context.gateway).then(
        () => true,
        () => false,
      ),
    { timeoutMs: 60_000, intervalMs: 200 },
  );
});

test.after.always(async (t) => {
  t.context.gateway?.close();
  await t.context.mesh?.stop();
  if (t.context.dataDir) fs.rmSync(t.context.dataDir, { recursive: true, force: true });
});

function classify(gateway: GatewayClient, text = 'a fine film, well made'): Promise<ClassifyResponse__Output> {
  return unaryCall<object, ClassifyResponse__Output>(
    (r, md, o, cb) => gateway.Classify(r, md, o, cb),
    { model: 'sentiment', texts: [text] },
    { deadline: 10_000 },
  );
}

/** Keeps IN_FLIGHT calls going until stopped; counts answers, failures (by code) and versions. */
function load(gateway: GatewayClient) {
  const counts = { ok: 0, failed: 0, codes: {} as Record<string, number>, versions: {} as Record<string, number>, details: new Set<string>() };
  let running = true;
  const worker = async (index: number) => {
    for (let call = 0; running; call++) {
      try {
        const response = await classify(gateway, `worker ${index} call ${call}: a fine film`);
        counts.ok += 1;
        const version = response.predictions[0]!.model_version;
        counts.versions[version] = (counts.versions[version] ?? 0) + 1;
      } catch (error) {
        counts.failed += 1;
        const code = Status[(error as ServiceError).code] ?? 'UNKNOWN';
        counts.codes[code] = (counts.codes[code] ?? 0) + 1;
        counts.details.add((error as ServiceError).details);
      }
    }
  };
  const workers = Array.from({ length: IN_FLIGHT }, (_, index) => worker(index));
  return {
    counts,
    async stop() {
      running = false;
      await Promise.all(workers);
      return counts;
    },
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Calls a replica has answered, from its own /metrics. */
async function served(replica: LocalReplica, method: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${replica.metricsPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('maas_grpc_server_requests_total{') && line.includes(`method="${method}"`) && line.includes('code="OK"'))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

const describe = (counts: ReturnType<typeof load>['counts']) => `${counts.ok} ok, ${counts.failed} failed ${JSON.stringify(counts.codes)}`;

test.serial('calls spread evenly across replicas under steady load', async (t) => {
  const { mesh } = t.context;
  const before = await Promise.all([
    ...mesh.replicas.inference.map((r) => served(r, 'ModelInfer')),
    ...mesh.replicas.tokenizer.map((r) => served(r, 'Encode')),
  ]);
  const running = load(t.context.gateway);
  await sleep(3_000);
  const counts = await running.stop();
  const after = await Promise.all([...mesh.replicas.inference.map((r) => served(r, 'ModelInfer')), ...mesh.replicas.tokenizer.map((r) => served(r, 'Encode'))]);
  const [inferenceA, inferenceB, tokenizerA, tokenizerB] = after.map((value, index) => value - before[index]!);
  t.log(`${describe(counts)}; ModelInfer per inference replica ${inferenceA}/${inferenceB}, Encode per tokenizer replica ${tokenizerA}/${tokenizerB}`);
  t.is(counts.failed, 0);
  const within20 = (a: number, b: number) => Math.abs(a - b) <= 0.2 * Math.max(a, b);
  t.true(inferenceA! > 0 && within20(inferenceA!, inferenceB!), `inference ${inferenceA}/${inferenceB}`);
  t.true(tokenizerA! > 0 && within20(tokenizerA!, tokenizerB!), `tokenizer ${tokenizerA}/${tokenizerB}`);
});

test.serial(
  'kill -9 of one of two inference replicas and one of two tokenizer replicas: 0 failed calls; restarted, they take traffic within 1 s of SERVING',
  async (t) => {
    const { mesh } = t.context;
    const running = load(t.context.gateway);
    await sleep(500);
    mesh.replicas.inference[1]!.process.kill('SIGKILL');
    mesh.replicas.tokenizer[1]!.process.kill('SIGKILL');
    await sleep(2_000);
    const duringKill = { ...running.counts, codes: { ...running.counts.codes }, details: new Set<string>() };

    const restarted = [mesh.replicas.inference[1]!, mesh.replicas.tokenizer[1]!];
    const methods = ['ModelInfer', 'Encode'];
    await Promise.all(restarted.map((replica) => replica.restart()));
    const servingAt = Date.now();
    const firstTraffic = await Promise.all(
      restarted.map((replica, index) =>
        eventually(`${replica.address} taking traffic`, async () => ((await served(replica, methods[index]!)) > 0 ? Date.now() - servingAt : false), {
          timeoutMs: 10_000,
          intervalMs: 20,
        }),
      ),
    );
    const counts = await running.stop();
    t.log(
      `kill -9 inference#2 + tokenizer#2: ${describe(duringKill)} in 2 s after the kill; ${describe(counts)} overall; restarted replicas took traffic ${firstTraffic.join(' ms / ')} ms after SERVING`,
    );
    t.is(counts.failed, 0);
    for (const ms of firstTraffic) t.true(ms <= 1_000, `${ms} ms`);
  },
);

test.serial('a service down to its last replica, killed and restarted, takes traffic within 1 s of SERVING', async (t) => {
  const { mesh } = t.context;
  const [first, second] = mesh.replicas.inference as [LocalReplica, LocalReplica];
  const exited = new Promise((resolve) => second.process.once('exit', resolve));
  second.process.kill('SIGTERM');
  await exited;
  // Now one replica: as a single-replica deployment, killed -9 and started again.
  first.process.kill('SIGKILL');
  const running = load(t.context.gateway);
  await sleep(1_000);
  await first.restart();
  const servingAt = Date.now();
  const tookMs = await eventually(
    'an answer after the restart',
    async () =>
      (await classify(t.context.gateway).then(
        () => true,
        () => false,
      ))
        ? Date.now() - servingAt
        : false,
    { timeoutMs: 10_000, intervalMs: 10 },
  );
  await sleep(500);
  const counts = await running.stop();
  await second.restart();
  t.log(`only inference replica killed -9 for ~1 s: ${describe(counts)} (failures while no replica was up are expected); answering ${tookMs} ms after SERVING`);
  t.true(tookMs <= 1_000, `${tookMs} ms`);
  const after = load(t.context.gateway);
  await sleep(500);
  t.is((await after.stop()).failed, 0);
});

test.serial('SIGTERM of an inference replica and then a tokenizer replica under load: 0 accepted calls lost', async (t) => {
  const { mesh } = t.context;
  const running = load(t.context.gateway);
  await sleep(300);
  for (const replica of [mesh.replicas.inference[0]!, mesh.replicas.tokenizer[0]!]) {
    const exited = new Promise((resolve) => replica.process.once('exit', resolve));
    replica.process.kill('SIGTERM');
    await exited;
    await sleep(500);
    await replica.restart();
    await sleep(300);
  }
  const counts = await running.stop();
  t.log(`SIGTERM inference#1 then tokenizer#1 (each restarted): ${describe(counts)}`);
  t.is(counts.failed, 0);
});

test.serial('SIGTERM of the gateway under load: every call it accepted is answered; the others are refused, not dropped', async (t) => {
  const { mesh } = t.context;
  const gateway = mesh.replicas.gateway[0]!;
  // Calls run to the end, failures sorted: UNAVAILABLE before a connection (never accepted) vs anything else.
  const running = load(t.context.gateway);
  await sleep(500);
  const exited = new Promise((resolve) => gateway.process.once('exit', resolve));
  gateway.process.kill('SIGTERM');
  await exited;
  const counts = await running.stop();
  await gateway.restart();
  await eventually(
    'the gateway answering again',
    () =>
      classify(t.context.gateway).then(
        () => true,
        () => false,
      ),
    { timeoutMs: 10_000, intervalMs: 50 },
  );
  t.log(`SIGTERM gateway: ${describe(counts)}; failures said: ${JSON.stringify([...counts.details])}`);
  t.true(counts.ok > 0);
  // Refused = never accepted (no connection, or GOAWAY before the call started); a call the gateway accepted and
  // then lost would end CANCELLED, INTERNAL, or UNAVAILABLE with its connection dropped or its stream reset.
  t.deepEqual(
    Object.keys(counts.codes).filter((code) => code !== 'UNAVAILABLE'),
    [],
  );
  t.deepEqual(
    [...counts.details].filter((details) => /dropped|RST_STREAM|reset|closed/i.test(details)),
    [],
  );
});

test.serial('a candidate whose tokenizer file is broken gets no traffic: 0 failed calls', async (t) => {
  const { mesh } = t.context;
  const registryAddress = mesh.addresses['model-registry'];
  const broken = path.join(t.context.dataDir, 'sentiment-broken-tokenizer');
  fs.cpSync(examplePackage('sentiment', '1'), broken, { recursive: true });
  const manifestPath = path.join(broken, 'maas.json');
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const bytes = Buffer.from('{"this is": "not a tokenizer"');
  fs.writeFileSync(path.join(broken, manifest.tokenizer.file), bytes);
  const entry = manifest.files.find((file: { path: string }) => file.path === manifest.tokenizer.file);
  entry.sha256 = (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex');
  entry.size_bytes = bytes.length;
  fs.writeFileSync(manifestPath, JSON.stringify({ ...manifest, version: '3' }));
  await registerPackage({ client: admin, registryAddress, packageDir: broken });

  const running = load(t.context.gateway);
  await setRollout({ client: admin, registryAddress, model: 'sentiment', stableVersion: '1', canaryVersion: '3', canaryWeight: 50 });
  await sleep(3_000);
  const counts = await running.stop();
  await setRollout({ client: admin, registryAddress, model: 'sentiment', stableVersion: '1', canaryVersion: '2', canaryWeight: 0 });
  t.log(`canary 3 (broken tokenizer) at 50 %: ${describe(counts)}; versions ${JSON.stringify(counts.versions)}`);
  t.is(counts.failed, 0);
  t.is(counts.versions['3'] ?? 0, 0);
});

test.serial('registry down: serving continues; a change after its return reaches the gateway within 1 s', async (t) => {
  const { mesh } = t.context;
  const registry = mesh.replicas['model-registry'][0]!;
  const registryAddress = mesh.addresses['model-registry'];
  const running = load(t.context.gateway);
  registry.process.kill('SIGKILL');
  await sleep(2_000);
  const whileDown = { ...running.counts, codes: { ...running.counts.codes }, details: new Set<string>() };
  await registry.restart();
  await setRollout({ client: admin, registryAddress, model: 'sentiment', stableVersion: '2' });
  const changedAt = Date.now();
  const tookMs = await eventually(
    'version 2 answering',
    async () => ((await classify(t.context.gateway)).predictions[0]!.model_version === '2' ? Date.now() - changedAt : false),
    { timeoutMs: 10_000, intervalMs: 20 },
  );
  const counts = await running.stop();
  await setRollout({ client: admin, registryAddress, model: 'sentiment', stableVersion: '1', canaryVersion: '2', canaryWeight: 0 });
  t.log(`registry killed 2 s: ${describe(whileDown)} while down; ${describe(counts)} overall; the change after its return served after ${tookMs} ms`);
  t.is(counts.failed, 0);
  t.true(tookMs <= 1_000, `${tookMs} ms`);
});
