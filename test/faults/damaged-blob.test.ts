// Fault: one bit flipped in a stored artifact blob. The registry must never serve the damaged bytes (DATA_LOSS
// before the first chunk), `maasctl fsck` must name the blob and the version, an identical upload must heal it
// (of the same version, or of another version with the same file), and inference must say DATA_LOSS for the
// version, not a vague UNAVAILABLE.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import { registerPackage, runCli, setRollout } from '@maas/cli';
import { contracts, Status, type ArtifactChunk__Output, type ModelRegistryClient } from '@maas/protos';
import { artifactDamagedCodec, versionRegisteredCodec } from '@maas/registry-client';
import { connect } from '@nats-io/transport-node';
import { createClient, unaryCall } from '@maas/shared';
import test from 'ava';
import { eventually } from '../support/eventually.js';
import { examplePackage } from '../support/example-models.js';
import { startInProcessMesh } from '../support/in-process-mesh.js';
import { startTestRegistry, type TestRegistry } from '../support/test-registry.js';
import { adminClient, testPki } from '../support/test-pki.js';

const SENTIMENT = examplePackage('sentiment', '1');
const manifest = JSON.parse(fs.readFileSync(path.join(SENTIMENT, 'maas.json'), 'utf8')) as {
  model_file: string;
  files: Array<{ path: string; sha256: string }>;
};
const modelSha = manifest.files.find((file) => file.path === manifest.model_file)!.sha256;

/** Downloads one file; resolves with its chunks' bytes, or the status it failed with and how many bytes came first. */
function download(
  client: ModelRegistryClient,
  version: string,
  model = 'sentiment',
): Promise<{ bytes: Buffer } | { error: ServiceError; bytesBefore: number }> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    const call = client.DownloadArtifact({ model, version, path: manifest.model_file }, { deadline: Date.now() + 20_000 });
    call.on('data', (chunk: ArtifactChunk__Output) => parts.push(chunk.data));
    call.on('error', (error: ServiceError) => resolve({ error, bytesBefore: Buffer.concat(parts).length }));
    call.on('end', () => resolve({ bytes: Buffer.concat(parts) }));
  });
}

const blobFile = (registry: TestRegistry) => path.join(registry.dataDir, 'blobs', 'sha256', modelSha.slice(0, 2), modelSha);

function flipOneBit(file: string): void {
  const bytes = fs.readFileSync(file);
  bytes[Math.floor(bytes.length / 2)]! ^= 0x10;
  fs.writeFileSync(file, bytes);
}

async function fsck(registry: TestRegistry, ...flags: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await runCli(['fsck', '--registry', registry.address, ...flags], {
    env: { MAAS_PKI_DIR: (await testPki()).dir },
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (out += text) },
  });
  return { code, out };
}

async function expectDataLoss(t: import('ava').ExecutionContext, client: ModelRegistryClient, version: string): Promise<void> {
  const result = await download(client, version);
  if (!('error' in result)) return void t.fail('the damaged blob was served');
  t.is(result.error.code, Status.DATA_LOSS, result.error.details);
  t.is(result.bytesBefore, 0, 'bytes were sent before the refusal');
  t.regex(result.error.details, /damaged in the registry's storage/);
}

async function expectIntact(t: import('ava').ExecutionContext, client: ModelRegistryClient, version: string): Promise<void> {
  const result = await download(client, version);
  if ('error' in result) return void t.fail(`download failed: ${result.error.details}`);
  t.is(createHash('sha256').update(result.bytes).digest('hex'), modelSha);
}

test('a bit-flipped blob is refused with DATA_LOSS, listed by fsck, and healed by registering the same package again', async (t) => {
  const registry = await startTestRegistry();
  t.teardown(() => registry.stop());
  await registerPackage({ client: adminClient(), registryAddress: registry.address, packageDir: SENTIMENT });
  t.is((await fsck(registry)).code, 0);

  flipOneBit(blobFile(registry));
  await expectDataLoss(t, registry.client, '1');
  const report = await fsck(registry);
  t.log(report.out.trim());
  t.is(report.code, 1);
  t.true(report.out.includes(`${modelSha}\tsha256\tkept`));
  t.true(report.out.includes(`sentiment version 1: ${manifest.model_file}`));

  // The identical package of the damaged version is accepted as a repair (not ALREADY_EXISTS).
  const repaired = await registerPackage({ client: adminClient(), registryAddress: registry.address, packageDir: SENTIMENT });
  t.is(repaired.version, '1');
  await expectIntact(t, registry.client, '1');
  t.is((await fsck(registry)).code, 0);
  // An identical package of a healthy version is still a duplicate.
  await t.throwsAsync(registerPackage({ client: adminClient(), registryAddress: registry.address, packageDir: SENTIMENT }), { message: /already registered/ });
});

test('another version carrying the same file heals the blob instead of being deduplicated onto it', async (t) => {
  const registry = await startTestRegistry();
  t.teardown(() => registry.stop());
  await registerPackage({ client: adminClient(), registryAddress: registry.address, packageDir: SENTIMENT });
  flipOneBit(blobFile(registry));
  const copy = path.join(registry.dataDir, '..', `sentiment-copy-${process.pid}`);
  fs.cpSync(SENTIMENT, copy, { recursive: true });
  t.teardown(() => fs.rmSync(copy, { recursive: true, force: true }));
  const copyManifest = JSON.parse(fs.readFileSync(path.join(copy, 'maas.json'), 'utf8'));
  fs.writeFileSync(path.join(copy, 'maas.json'), JSON.stringify({ ...copyManifest, version: '9' }));
  await registerPackage({ client: adminClient(), registryAddress: registry.address, packageDir: copy });
  await expectIntact(t, registry.client, '1');
  await expectIntact(t, registry.client, '9');
});

test('fsck --repair removes the damaged blob; the version stays DATA_LOSS until its package is registered again', async (t) => {
  const registry = await startTestRegistry();
  t.teardown(() => registry.stop());
  await registerPackage({ client: adminClient(), registryAddress: registry.address, packageDir: SENTIMENT });
  flipOneBit(blobFile(registry));
  const report = await fsck(registry, '--repair');
  t.is(report.code, 1);
  t.true(report.out.includes(`${modelSha}\tsha256\tremoved`));
  t.false(fs.existsSync(blobFile(registry)));
  await expectDataLoss(t, registry.client, '1');
  await registerPackage({ client: adminClient(), registryAddress: registry.address, packageDir: SENTIMENT });
  await expectIntact(t, registry.client, '1');
  t.is((await fsck(registry)).code, 0);
});

test('inference reports a version with a damaged artifact as DATA_LOSS, and loads it once repaired', async (t) => {
  const mesh = await startInProcessMesh({
    env: { NATS_URL: 'nats://127.0.0.1:1', RESYNC_INTERVAL_NO_NATS_MS: '200' },
    serviceEnv: { inference: { MODEL_RETRY_BACKOFF_MS: '200' } },
    beforeConsumers: async (registryAddress) => {
      await registerPackage({ client: adminClient(), registryAddress, packageDir: SENTIMENT });
      await registerPackage({ client: adminClient(), registryAddress, packageDir: examplePackage('sentiment', '2') });
      await setRollout({ client: adminClient(), registryAddress, model: 'sentiment', stableVersion: '2' });
    },
  });
  t.teardown(() => mesh.stop());
  flipOneBit(path.join(mesh.dataDir, 'registry', 'blobs', 'sha256', modelSha.slice(0, 2), modelSha));
  // Version 1 becomes a canary: inference fetches it, gets DATA_LOSS, and says so for calls naming it.
  await setRollout({
    client: adminClient(),
    registryAddress: mesh.addresses.registry,
    model: 'sentiment',
    stableVersion: '2',
    canaryVersion: '1',
    canaryWeight: 0,
  });
  const oip = createClient(contracts().inference.GRPCInferenceService, mesh.addresses.inference, mesh.clientOptions());
  t.teardown(() => oip.close());
  const infer = () =>
    unaryCall(
      (r: object, md, o, cb) => oip.ModelInfer(r as never, md, o, cb),
      {
        model_name: 'sentiment',
        model_version: '1',
        inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [1, 100] }],
        raw_input_contents: [Buffer.alloc(800)],
      },
      { deadline: 5_000 },
    );
  const failure = await eventually(
    'inference to report DATA_LOSS',
    async () => {
      await mesh.services.inference.resyncNow();
      const error = (await infer().then(
        () => undefined,
        (caught: ServiceError) => caught,
      )) as ServiceError | undefined;
      return error?.code === Status.DATA_LOSS ? error : false;
    },
    { timeoutMs: 20_000, intervalMs: 200 },
  );
  t.log(`inference: ${Status[failure.code]}: ${failure.details.slice(0, 200)}`);
  t.regex(failure.details, /artifact is damaged in the registry/);

  await registerPackage({ client: adminClient(), registryAddress: mesh.addresses.registry, packageDir: SENTIMENT });
  await eventually(
    'version 1 to load after the repair',
    async () => {
      await mesh.services.inference.resyncNow();
      return infer().then(
        () => true,
        () => false,
      );
    },
    { timeoutMs: 20_000, intervalMs: 200 },
  );
  t.pass();
});

test('the damage is announced once on NATS (artifact-damaged), naming the version, file and digest', async (t) => {
  const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
  t.teardown(() => nc.close());
  const received: Array<{ version: string; path: string; sha256: string }> = [];
  const registered: string[] = [];
  nc.subscribe('maas.events.registry.sentiment.artifact-damaged', {
    callback: (_error, message) => {
      const event = artifactDamagedCodec.decode(message.data);
      if (event.sha256 === modelSha) received.push({ version: event.version, path: event.path, sha256: event.sha256 });
    },
  });
  nc.subscribe('maas.events.registry.sentiment.version-registered', {
    callback: (_error, message) => void registered.push(versionRegisteredCodec.decode(message.data).version),
  });
  await nc.flush();
  const registry = await startTestRegistry({ natsUrl: null });
  t.teardown(() => registry.stop());
  // The registry connects to NATS in the background: register until one of its events has come through.
  const copy = path.join(registry.dataDir, '..', `sentiment-event-${process.pid}`);
  fs.cpSync(SENTIMENT, copy, { recursive: true });
  t.teardown(() => fs.rmSync(copy, { recursive: true, force: true }));
  let label = 0;
  await eventually(
    'the registry publishing',
    async () => {
      const manifestPath = path.join(copy, 'maas.json');
      fs.writeFileSync(manifestPath, JSON.stringify({ ...JSON.parse(fs.readFileSync(manifestPath, 'utf8')), version: `ev${++label}` }));
      await registerPackage({ client: adminClient(), registryAddress: registry.address, packageDir: copy });
      await new Promise((resolve) => setTimeout(resolve, 100));
      // Only this registry registers "ev" versions (other tests share this NATS).
      return registered.some((version) => version.startsWith('ev'));
    },
    { timeoutMs: 15_000, intervalMs: 0 },
  );
  flipOneBit(blobFile(registry));
  await expectDataLoss(t, registry.client, 'ev1');
  await expectDataLoss(t, registry.client, 'ev1');
  await eventually('the artifact-damaged event', () => received.length > 0, { timeoutMs: 5_000, intervalMs: 50 });
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.deepEqual(received, [{ version: 'ev1', path: manifest.model_file, sha256: modelSha }]);
});
