/**
 * The registry over real gRPC on port 0. NATS_URL points to a closed port throughout, so every write here
 * also shows that registration and rollouts work with NATS unreachable.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import Database from 'better-sqlite3';
import type * as grpc from '@grpc/grpc-js';
import {
  contracts,
  Status,
  type CheckStorageResponse__Output,
  type ListAuditEventsResponse__Output,
  type ModelRegistryClient,
  type ModelVersion__Output,
  type SetRolloutRequest,
} from '@maas/protos';
import {
  makeTempDir,
  modelPackage,
  registerPackage,
  registerVersionMessages,
  sha256Hex,
  uniqueModelName,
  uploadPackage,
} from '../../../test/support/model-packages.js';
import { registryCalls, startTestRegistry } from '../../../test/support/test-registry.js';
import { eventually } from '../../../test/support/eventually.js';
import { testPki } from '../../../test/support/test-pki.js';
import { createClient } from '@maas/shared';
import { download, nestedFakePackage } from './registry-helpers.js';

const codeOf = (error: unknown) => (error as grpc.ServiceError).code;

/** ListAuditEvents as a promise. */
const listAudit = (client: ModelRegistryClient, request: { model?: string; limit?: number } = {}) =>
  new Promise<ListAuditEventsResponse__Output>((resolve, reject) =>
    client.ListAuditEvents(request, { deadline: Date.now() + 5_000 }, (error, response) => (error ? reject(error) : resolve(response!))),
  );
const detailsOf = (error: unknown) => (error as grpc.ServiceError).details;

async function registerFake(client: ModelRegistryClient, options: { name: string; version: string; modelBytes?: number }): Promise<ModelVersion__Output> {
  return registerPackage(client, nestedFakePackage(options));
}

/** Every file below `dir`; folders the registry removes while we look count as empty. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const nested = await Promise.all(entries.map((entry) => (entry.isDirectory() ? filesUnder(path.join(dir, entry.name)) : [path.join(dir, entry.name)])));
  return nested.flat();
}

test('register a package, then read it back with GetVersion, GetModel and ListModels', async (t) => {
  const { client, stop } = await startTestRegistry();
  t.teardown(stop);
  const pkg = nestedFakePackage({ name: uniqueModelName(), version: '1', modelBytes: 5000 });
  const registered = await uploadPackage(client, registerVersionMessages(pkg, 700));
  t.is(registered.model, pkg.manifest.name!);
  t.is(registered.version, '1');
  t.is(registered.revision, 1);
  t.regex(registered.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  t.deepEqual(
    registered.artifacts.map((artifact) => artifact.path),
    ['model.onnx', 'tokenizer.json', 'extra/notes.txt', 'maas.json'],
  );
  for (const file of pkg.files) {
    t.like(
      registered.artifacts.find((artifact) => artifact.path === file.path),
      { sha256: sha256Hex(file.data), size_bytes: file.data.length },
    );
  }
  t.is(registered.manifest?.tokenizer?.file, 'tokenizer.json');

  t.deepEqual(await registryCalls(client).getVersion(pkg.manifest.name!, '1'), registered);
  const model = await registryCalls(client).getModel(pkg.manifest.name!);
  t.deepEqual(model.versions, [registered]);
  t.is(model.rollout?.stable_version, '');
  const snapshot = await registryCalls(client).listModels();
  t.is(snapshot.revision, 1);
  t.deepEqual(snapshot.models, [model]);
});

test('download round trip: many chunks, the first with sha256 and size; maas.json is the canonical manifest', async (t) => {
  const { client, stop } = await startTestRegistry({ env: { DOWNLOAD_CHUNK_BYTES: '65536' } });
  t.teardown(stop);
  const name = uniqueModelName();
  const pkg = nestedFakePackage({ name, version: '1', modelBytes: 200_000 });
  const registered = await uploadPackage(client, registerVersionMessages(pkg, 64 * 1024));
  const model = pkg.files.find((file) => file.path === 'model.onnx')!;

  const { chunks, data } = await download(client, { model: name, version: '1', path: 'model.onnx' });
  t.is(chunks.length, 4);
  t.true(chunks.every((chunk) => chunk.data.length <= 65536));
  t.is(chunks[0]!.sha256, sha256Hex(model.data));
  t.is(chunks[0]!.size_bytes, model.data.length);
  t.true(chunks.slice(1).every((chunk) => chunk.sha256 === '' && chunk.size_bytes === 0));
  t.is(sha256Hex(data), chunks[0]!.sha256);

  const manifestFile = await download(client, { model: name, version: '1', path: 'maas.json' });
  t.is(sha256Hex(manifestFile.data), registered.artifacts.find((artifact) => artifact.path === 'maas.json')!.sha256);
  // maas.json leaves an empty evaluation_file out (canonicalManifestJson); the served manifest has its default.
  t.deepEqual({ evaluation_file: '', ...JSON.parse(manifestFile.data.toString('utf8')) }, registered.manifest);
});

test('downloads of an unknown model, version or file are NOT_FOUND saying which; a lost blob is DATA_LOSS', async (t) => {
  const { client, dataDir, stop } = await startTestRegistry();
  t.teardown(stop);
  const name = uniqueModelName();
  const registered = await registerFake(client, { name, version: '1' });
  for (const [request, message] of [
    [{ model: 'nope', version: '1', path: 'model.onnx' }, 'model "nope" is not registered'],
    [{ model: name, version: '9', path: 'model.onnx' }, `model "${name}" has no version "9"`],
    [{ model: name, version: '1', path: 'other.bin' }, 'has no file "other.bin"'],
  ] as const) {
    const error = await t.throwsAsync(() => download(client, request));
    t.is(codeOf(error), Status.NOT_FOUND);
    t.true(detailsOf(error).includes(message), detailsOf(error));
  }
  const notes = registered.artifacts.find((artifact) => artifact.path === 'extra/notes.txt')!;
  await fs.rm(path.join(dataDir, 'blobs', 'sha256', notes.sha256.slice(0, 2), notes.sha256));
  const lost = await t.throwsAsync(() => download(client, { model: name, version: '1', path: 'extra/notes.txt' }));
  t.is(codeOf(lost), Status.DATA_LOSS);
});

test('equal files of two versions share one blob', async (t) => {
  const { client, dataDir, stop } = await startTestRegistry();
  t.teardown(stop);
  const name = uniqueModelName();
  const pkg = nestedFakePackage({ name, version: '1' });
  await uploadPackage(client, registerVersionMessages(pkg));
  const before = await filesUnder(path.join(dataDir, 'blobs'));
  // Version 2: same model and tokenizer bytes; only notes.txt and the manifest differ.
  const files = pkg.files.map((file) => (file.path === 'extra/notes.txt' ? { ...file, data: Buffer.from('v2\n') } : file));
  await uploadPackage(client, registerVersionMessages(modelPackage({ ...pkg.manifest, version: '2' }, files)));
  const after = await filesUnder(path.join(dataDir, 'blobs'));
  t.is(before.length, 4);
  t.is(after.length, 6);
});

test('a corrupt file is INVALID_ARGUMENT naming it, and nothing is stored', async (t) => {
  const { client, dataDir, stop } = await startTestRegistry();
  t.teardown(stop);
  const pkg = nestedFakePackage({ name: uniqueModelName(), version: '1' });
  const messages = registerVersionMessages(pkg);
  const last = messages.filter((message) => message.chunk?.path === 'tokenizer.json').pop()!;
  const corrupted = Buffer.from(last.chunk!.data as Buffer);
  corrupted[0] = corrupted[0]! ^ 0xff;
  last.chunk = { path: 'tokenizer.json', data: corrupted };

  const error = await t.throwsAsync(() => uploadPackage(client, messages));
  t.is(codeOf(error), Status.INVALID_ARGUMENT);
  t.true(detailsOf(error).includes('"tokenizer.json"') && detailsOf(error).includes('sha256'), detailsOf(error));
  t.deepEqual(await filesUnder(path.join(dataDir, 'blobs')), []);
  t.deepEqual(await filesUnder(path.join(dataDir, 'tmp')), []);
  t.deepEqual((await registryCalls(client).listModels()).models, []);
});

test('malformed streams are INVALID_ARGUMENT with what is wrong', async (t) => {
  const { client, stop } = await startTestRegistry();
  t.teardown(stop);
  const pkg = nestedFakePackage({ name: uniqueModelName(), version: '1' });
  const normal = registerVersionMessages(pkg);
  const [manifest, ...chunks] = normal;
  const cases: Array<[string, typeof normal, string]> = [
    ['no manifest first', chunks, 'first message must carry the manifest'],
    ['empty stream', [], 'first message must carry the manifest'],
    ['missing file', normal.filter((message) => message.chunk?.path !== 'extra/notes.txt'), 'did not arrive: "extra/notes.txt"'],
    ['extra file', [...normal, { chunk: { path: 'surprise.bin', data: Buffer.from('x') } }], '"surprise.bin" is not listed'],
    ['maas.json as a file', [...normal, { chunk: { path: 'maas.json', data: Buffer.from('{}') } }], 'send it as the first message'],
    ['interleaved chunks', [...normal, { chunk: { path: 'model.onnx', data: Buffer.from('x') } }], 'chunks of file "model.onnx" must be consecutive'],
    ['second manifest', [manifest!, manifest!, ...chunks], 'only the first message may carry a manifest'],
    ['invalid manifest', [{ manifest: { ...pkg.manifest, name: 'Bad Name', task: 'chat', labels: [] } }, ...chunks], 'name:'],
  ];
  for (const [label, messages, expected] of cases) {
    const error = await t.throwsAsync(() => uploadPackage(client, messages), undefined, label);
    t.is(codeOf(error), Status.INVALID_ARGUMENT, label);
    t.true(detailsOf(error)?.includes(expected), `${label}: ${detailsOf(error)}`);
  }
  const invalid = await t.throwsAsync(() => uploadPackage(client, [{ manifest: { ...pkg.manifest, name: 'Bad Name', task: 'chat', labels: [] } }]));
  for (const field of ['name:', 'task:', 'labels:']) t.true(detailsOf(invalid).includes(field), detailsOf(invalid));

  const oversized = registerVersionMessages(pkg);
  const notes = oversized.find((message) => message.chunk?.path === 'extra/notes.txt')!;
  notes.chunk = { path: 'extra/notes.txt', data: Buffer.concat([notes.chunk!.data as Buffer, Buffer.from('more')]) };
  const error = await t.throwsAsync(() => uploadPackage(client, oversized));
  t.true(detailsOf(error).includes('larger than the'), detailsOf(error));
  t.deepEqual((await registryCalls(client).listModels()).models, []);
});

test('a package over the size limits is refused from its manifest', async (t) => {
  const { client, stop } = await startTestRegistry({ env: { MAX_PACKAGE_BYTES: '10000', MAX_FILE_BYTES: '8000' } });
  t.teardown(stop);
  const pkg = nestedFakePackage({ name: uniqueModelName(), version: '1', modelBytes: 9000 });
  const error = await t.throwsAsync(() => uploadPackage(client, registerVersionMessages(pkg)));
  t.is(codeOf(error), Status.INVALID_ARGUMENT);
  t.true(detailsOf(error).includes('"model.onnx" is 9000 bytes, over the registry\'s limit of 8000'), detailsOf(error));
  const fits = nestedFakePackage({ name: uniqueModelName(), version: '1', modelBytes: 7000 });
  t.is((await uploadPackage(client, registerVersionMessages(fits))).version, '1');
});

test('a duplicate version is ALREADY_EXISTS, refused before its files are sent', async (t) => {
  const { client, stop } = await startTestRegistry();
  t.teardown(stop);
  const name = uniqueModelName();
  await registerFake(client, { name, version: '1' });
  const pkg = nestedFakePackage({ name, version: '1' });
  const error = await t.throwsAsync(() => uploadPackage(client, [{ manifest: pkg.manifest }]));
  t.is(codeOf(error), Status.ALREADY_EXISTS);
  t.is(detailsOf(error), `model "${name}" version "1" is already registered`);
  const full = await t.throwsAsync(() => uploadPackage(client, registerVersionMessages(pkg)));
  t.is(codeOf(full), Status.ALREADY_EXISTS);
});

test('an empty file needs no chunk', async (t) => {
  const { client, stop } = await startTestRegistry();
  t.teardown(stop);
  const pkg = nestedFakePackage({ name: uniqueModelName(), version: '1' });
  const empty = Buffer.alloc(0);
  pkg.manifest.files!.push({ path: 'empty.txt', sha256: sha256Hex(empty), size_bytes: 0 });
  const registered = await uploadPackage(client, registerVersionMessages(pkg));
  t.like(
    registered.artifacts.find((artifact) => artifact.path === 'empty.txt'),
    { size_bytes: 0 },
  );
  const { chunks } = await download(client, { model: pkg.manifest.name!, version: '1', path: 'empty.txt' });
  t.is(chunks.length, 1);
  t.is(chunks[0]!.sha256, sha256Hex(empty));
});

test('rollouts: validation, NOT_FOUND, expected_revision and increasing revisions', async (t) => {
  const { client, stop } = await startTestRegistry();
  t.teardown(stop);
  const name = uniqueModelName();
  await registerFake(client, { name, version: '1' });
  const v2 = await registerFake(client, { name, version: '2' });
  t.is(v2.revision, 2);
  const setRollout = (request: Omit<SetRolloutRequest, 'model'>) => registryCalls(client).setRollout({ model: name, ...request });

  const unknownVersion = await t.throwsAsync(() => setRollout({ stable_version: '1', canary_version: '3', canary_weight: 10 }));
  t.is(codeOf(unknownVersion), Status.NOT_FOUND);
  t.is(detailsOf(unknownVersion), `model "${name}" has no version "3"`);
  t.is(codeOf(await t.throwsAsync(() => registryCalls(client).setRollout({ model: 'ghost', stable_version: '1' }))), Status.NOT_FOUND);
  const tooHeavy = await t.throwsAsync(() => setRollout({ stable_version: '1', canary_version: '2', canary_weight: 101 }));
  t.is(codeOf(tooHeavy), Status.INVALID_ARGUMENT);
  t.true(detailsOf(tooHeavy).includes('canary_weight'));
  t.is(codeOf(await t.throwsAsync(() => setRollout({ stable_version: '1', canary_weight: 10 }))), Status.INVALID_ARGUMENT);
  t.is(codeOf(await t.throwsAsync(() => setRollout({ stable_version: '2', canary_version: '2', canary_weight: 10 }))), Status.INVALID_ARGUMENT);

  const canary = await setRollout({ stable_version: '1', canary_version: '2', canary_weight: 25 });
  t.like(canary, { model: name, stable_version: '1', canary_version: '2', canary_weight: 25, revision: 3 });
  const stale = await t.throwsAsync(() => setRollout({ stable_version: '2', expected_revision: 2 }));
  t.is(codeOf(stale), Status.ABORTED);
  const promoted = await setRollout({ stable_version: '2', expected_revision: 3 });
  t.like(promoted, { stable_version: '2', canary_version: '', canary_weight: 0, revision: 4 });
  t.deepEqual((await registryCalls(client).getModel(name)).rollout, promoted);
  t.is((await registryCalls(client).listModels()).revision, 4);
});

test('SetRollout mirror_percent and SetAlias over gRPC: stored, served by GetModel and ListModels, rules enforced', async (t) => {
  const { client, stop } = await startTestRegistry();
  t.teardown(stop);
  const name = uniqueModelName();
  await registerFake(client, { name, version: '1' });
  await registerFake(client, { name, version: '2' });
  const calls = registryCalls(client);

  const noCanary = await t.throwsAsync(() => calls.setRollout({ model: name, stable_version: '1', mirror_percent: 20 }));
  t.is(codeOf(noCanary), Status.INVALID_ARGUMENT);
  t.is(detailsOf(noCanary), 'mirror_percent: must be 0 without a canary_version (there is nothing to mirror to)');
  t.is(
    codeOf(await t.throwsAsync(() => calls.setRollout({ model: name, stable_version: '1', canary_version: '2', mirror_percent: 101 }))),
    Status.INVALID_ARGUMENT,
  );
  const shadow = await calls.setRollout({ model: name, stable_version: '1', canary_version: '2', canary_weight: 0, mirror_percent: 20 });
  t.like(shadow, { canary_version: '2', canary_weight: 0, mirror_percent: 20, revision: 3 });

  const production = await calls.setAlias({ model: name, alias: 'production', version: '1' });
  t.like(production, { name: 'production', version: '1', revision: 4 });
  t.is(codeOf(await t.throwsAsync(() => calls.setAlias({ model: name, alias: 'production', version: '2', expected_revision: 3 }))), Status.ABORTED);
  t.is(codeOf(await t.throwsAsync(() => calls.setAlias({ model: name, alias: 'production', version: '9' }))), Status.NOT_FOUND);
  t.is(codeOf(await t.throwsAsync(() => calls.setAlias({ model: 'ghost', alias: 'production', version: '1' }))), Status.NOT_FOUND);
  const badName = await t.throwsAsync(() => calls.setAlias({ model: name, alias: 'Prod!', version: '1' }));
  t.is(codeOf(badName), Status.INVALID_ARGUMENT);
  t.regex(detailsOf(badName), /^alias: "Prod!" must be lowercase/);
  // A version that would shadow an alias is refused before its files are sent.
  const clash = await t.throwsAsync(() => registerFake(client, { name, version: 'production' }));
  t.is(codeOf(clash), Status.FAILED_PRECONDITION);

  const model = await calls.getModel(name);
  t.deepEqual(model.rollout, shadow);
  t.deepEqual(model.aliases, [production]);
  t.deepEqual((await calls.listModels()).models.find((entry) => entry.name === name)?.aliases, [production]);
  const removed = await calls.setAlias({ model: name, alias: 'production', version: '', expected_revision: production.revision });
  t.like(removed, { name: 'production', version: '', revision: 5 });
  t.deepEqual((await calls.getModel(name)).aliases, []);
});

test('a restart over the same data folder keeps models, rollouts, revision and artifacts', async (t) => {
  const dataDir = await makeTempDir();
  const first = await startTestRegistry({ dataDir });
  const name = uniqueModelName();
  const pkg = nestedFakePackage({ name, version: '1', modelBytes: 3000 });
  await uploadPackage(first.client, registerVersionMessages(pkg));
  await registryCalls(first.client).setRollout({ model: name, stable_version: '1' });
  const before = await registryCalls(first.client).listModels();
  await first.stop();

  const second = await startTestRegistry({ dataDir });
  t.teardown(second.stop);
  t.deepEqual(await registryCalls(second.client).listModels(), before);
  const { data } = await download(second.client, { model: name, version: '1', path: 'model.onnx' });
  t.true(data.equals(pkg.files[0]!.data));
  const next = await registerFake(second.client, { name, version: '2' });
  t.is(next.revision, before.revision + 1);
});

test('a client that cancels mid-upload leaves nothing behind', async (t) => {
  const { client, dataDir, stop } = await startTestRegistry();
  t.teardown(stop);
  const pkg = nestedFakePackage({ name: uniqueModelName(), version: '1', modelBytes: 100_000 });
  const messages = registerVersionMessages(pkg, 10_000);
  const result = new Promise<grpc.ServiceError | null>((resolve) => {
    const stream = client.RegisterVersion((error) => resolve(error));
    for (const message of messages.slice(0, 4)) stream.write(message);
    // Cancelled once the upload is staged (or, should it never be, after the wait: the assertions below then fail).
    void eventually('the upload is staged', async () => (await filesUnder(path.join(dataDir, 'tmp'))).length > 0)
      .catch(() => undefined)
      .then(() => stream.cancel());
  });
  t.is((await result)?.code, Status.CANCELLED);
  t.true(await eventually('the staging files are removed', async () => (await filesUnder(path.join(dataDir, 'tmp'))).length === 0));
  t.deepEqual(await filesUnder(path.join(dataDir, 'blobs')), []);
  // The same version registers cleanly afterwards.
  t.is((await uploadPackage(client, messages)).version, '1');
});

test('an upload still open at its deadline fails with DEADLINE_EXCEEDED and stores nothing', async (t) => {
  const { client, dataDir, stop } = await startTestRegistry();
  t.teardown(stop);
  const pkg = nestedFakePackage({ name: uniqueModelName(), version: '1' });
  const messages = registerVersionMessages(pkg);
  const error = await new Promise<grpc.ServiceError | null>((resolve) => {
    const stream = client.RegisterVersion({ deadline: Date.now() + 300 }, (failure) => resolve(failure));
    // Everything but the end of the stream: the registry must not commit what the client never finished.
    for (const message of messages) stream.write(message);
  });
  t.is(error?.code, Status.DEADLINE_EXCEEDED);
  t.true(await eventually('the staging files are removed', async () => (await filesUnder(path.join(dataDir, 'tmp'))).length === 0));
  t.deepEqual((await registryCalls(client).listModels()).models, []);
});

test('with NATS unreachable writes succeed and the metrics count them and the unpublished events', async (t) => {
  const { client, registry, stop } = await startTestRegistry();
  t.teardown(stop);
  t.false(registry.eventBus.connected);
  const name = uniqueModelName();
  const pkg = nestedFakePackage({ name, version: '1', modelBytes: 1000 });
  await uploadPackage(client, registerVersionMessages(pkg));
  await registryCalls(client).setRollout({ model: name, stable_version: '1' });
  await download(client, { model: name, version: '1', path: 'model.onnx' });

  const text = await (await fetch(`http://127.0.0.1:${registry.metricsPort}/metrics`)).text();
  const value = (series: string) =>
    Number(
      text
        .split('\n')
        .find((line) => line.startsWith(series))
        ?.split(' ')
        .pop(),
    );
  t.is(value('maas_registry_registrations_total'), 1);
  t.is(value('maas_registry_rollout_changes_total'), 1);
  t.is(value('maas_registry_events_published_total{kind="version-registered",result="error"'), 1);
  t.is(value('maas_registry_events_published_total{kind="rollout-changed",result="error"'), 1);
  t.is(value('maas_registry_artifact_sent_bytes_total'), 1000);
  const packageBytes = pkg.files.reduce((sum, file) => sum + file.data.length, 0);
  t.is(value('maas_registry_artifact_received_bytes_total'), packageBytes);
  t.true(value('maas_registry_blob_stored_bytes') > packageBytes);
  t.is(value('maas_registry_revision'), 2);
});

test('mTLS identities: services may read, only the admin may write (RegisterVersion, SetRollout); no certificate, no call', async (t) => {
  const { client: admin, address, stop } = await startTestRegistry();
  t.teardown(stop);
  const pki = await testPki();
  const name = uniqueModelName();
  await registerFake(admin, { name, version: '1' });
  for (const service of ['gateway', 'tokenizer', 'inference'] as const) {
    const reader = createClient(contracts().maas.v1.ModelRegistry, address, pki.clientOptions(service));
    t.teardown(() => reader.close());
    const snapshot = await registryCalls(reader).listModels();
    t.true(
      snapshot.models.some((model) => model.name === name),
      `${service} reads the registry`,
    );
    const rollout = await t.throwsAsync(registryCalls(reader).setRollout({ model: name, stable_version: '1' }));
    t.is(codeOf(rollout), Status.PERMISSION_DENIED, `${service} may not SetRollout`);
    t.is(detailsOf(rollout), `spiffe://maas/${service} may not call /maas.v1.ModelRegistry/SetRollout`);
    const register = await t.throwsAsync(registerFake(reader, { name, version: '2' }));
    t.is(codeOf(register), Status.PERMISSION_DENIED, `${service} may not RegisterVersion`);
  }
  // Nothing was written by the refused calls.
  t.deepEqual(
    (await registryCalls(admin).getModel(name)).versions.map((version) => version.version),
    ['1'],
  );
  const plaintext = createClient(contracts().maas.v1.ModelRegistry, address);
  t.teardown(() => plaintext.close());
  t.is(codeOf(await t.throwsAsync(registryCalls(plaintext).listModels())), Status.UNAVAILABLE);
});

test('audit log: every write with who, what, when and the revisions, newest first; the admin alone reads it; it survives a restart', async (t) => {
  const dataDir = await makeTempDir('maas-audit-');
  t.teardown(() => fs.rm(dataDir, { recursive: true, force: true }));
  const first = await startTestRegistry({ dataDir });
  const name = uniqueModelName();
  const calls = registryCalls(first.client);

  await registerFake(first.client, { name, version: '1' });
  await registerFake(first.client, { name, version: '2' });
  await calls.setRollout({ model: name, stable_version: '1', canary_version: '2', canary_weight: 10 });
  await calls.setRollout({ model: name, stable_version: '1', canary_version: '2', canary_weight: 10 }); // no change: still audited
  await t.throwsAsync(calls.setRollout({ model: name, stable_version: '9' })); // failed: not audited
  const { events } = await listAudit(first.client, { model: name });
  t.deepEqual(
    events.map((event) => event.action),
    ['SetRollout', 'SetRollout', 'RegisterVersion', 'RegisterVersion'],
  );
  for (const event of events) {
    t.is(event.actor, 'spiffe://maas/admin');
    t.is(event.model, name);
    t.false(Number.isNaN(Date.parse(event.occurred_at)));
  }
  const [unchanged, rollout, second] = events;
  t.is(rollout!.to_revision, rollout!.from_revision + 1);
  t.is(unchanged!.to_revision, unchanged!.from_revision, 'a write that changed nothing keeps the revision');
  t.is(rollout!.from_revision, second!.to_revision);
  t.like(JSON.parse(rollout!.details_json), { model: name, stable_version: '1', canary_version: '2', canary_weight: 10 });
  t.like(JSON.parse(second!.details_json), { model: name, version: '2' });

  const pki = await testPki();
  const gateway = createClient(contracts().maas.v1.ModelRegistry, first.address, pki.clientOptions('gateway'));
  t.teardown(() => gateway.close());
  t.is(codeOf(await t.throwsAsync(listAudit(gateway))), Status.PERMISSION_DENIED);
  await first.stop();

  const second2 = await startTestRegistry({ dataDir });
  t.teardown(second2.stop);
  t.is((await listAudit(second2.client, { model: name, limit: 2 })).events.length, 2);
  t.is((await listAudit(second2.client, { model: name })).events.length, 4);
});

test('audit log: alias changes are audited; a storage check only when it repairs, as the registry-wide write it then is', async (t) => {
  const registry = await startTestRegistry();
  t.teardown(registry.stop);
  const name = uniqueModelName();
  const calls = registryCalls(registry.client);
  const checkStorage = (repair: boolean) =>
    new Promise<CheckStorageResponse__Output>((resolve, reject) =>
      registry.client.CheckStorage({ repair }, { deadline: Date.now() + 5_000 }, (error, response) => (error ? reject(error) : resolve(response!))),
    );

  await registerFake(registry.client, { name, version: '1' });
  const alias = await calls.setAlias({ model: name, alias: 'production', version: '1' });
  await checkStorage(false);
  await checkStorage(true);
  const { events } = await listAudit(registry.client);
  t.deepEqual(
    events.map((event) => [event.action, event.model]),
    [
      ['CheckStorage', ''],
      ['SetAlias', name],
      ['RegisterVersion', name],
    ],
  );
  const [repair, setAlias] = events;
  t.like(JSON.parse(setAlias!.details_json), { model: name, alias: 'production', version: '1' });
  t.is(setAlias!.to_revision, alias.revision);
  t.deepEqual(JSON.parse(repair!.details_json), { repair: true, removed: [] });
  t.is(repair!.actor, 'spiffe://maas/admin');
});

test('audit log: the row is written in the write’s own transaction — a row that cannot be written undoes the write, a write that fails undoes its row', async (t) => {
  const registry = await startTestRegistry();
  t.teardown(registry.stop);
  const name = uniqueModelName();
  const calls = registryCalls(registry.client);
  const modelAudit = () => listAudit(registry.client, { model: name });
  await registerFake(registry.client, { name, version: '1' });
  await registerFake(registry.client, { name, version: '2' });
  const rollout = await calls.setRollout({ model: name, stable_version: '1' });
  // A second connection to the registry's database (as a backup tool would open one) installs failures by trigger.
  const db = new Database(path.join(registry.dataDir, 'registry.db'));
  t.teardown(() => db.close());
  db.pragma('busy_timeout = 5000');
  const blobs = () => filesUnder(path.join(registry.dataDir, 'blobs'));
  const before = { model: await calls.getModel(name), audit: (await modelAudit()).events, revision: registry.registry.revision(), blobs: await blobs() };
  const unchanged = async (what: string) => {
    t.deepEqual(await calls.getModel(name), before.model, `${what}: the model as it was`);
    t.deepEqual((await modelAudit()).events, before.audit, `${what}: no audit row`);
    t.is(registry.registry.revision(), before.revision, `${what}: the revision as it was`);
    // No blob of a refused version left behind (the committer removes what its failed commit stored).
    t.deepEqual((await blobs()).sort(), [...before.blobs].sort(), `${what}: the blobs as they were`);
  };

  // 1. The audit insert fails: the write it records is rolled back with it (rollout, alias, a new version).
  db.exec(`CREATE TRIGGER audit_fails BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit log unwritable'); END;`);
  t.is(codeOf(await t.throwsAsync(calls.setRollout({ model: name, stable_version: '1', canary_version: '2', canary_weight: 10 }))), Status.INTERNAL);
  t.is(codeOf(await t.throwsAsync(calls.setAlias({ model: name, alias: 'production', version: '2' }))), Status.INTERNAL);
  t.is(codeOf(await t.throwsAsync(registerFake(registry.client, { name, version: '3' }))), Status.INTERNAL);
  await unchanged('audit insert failed');
  t.is(codeOf(await t.throwsAsync(calls.getVersion(name, '3'))), Status.NOT_FOUND);
  db.exec('DROP TRIGGER audit_fails');

  // 2. The write fails after its audit row was inserted (the row comes first, at the revision bump): the row goes too.
  db.exec(`CREATE TRIGGER rollout_fails BEFORE UPDATE ON rollouts BEGIN SELECT RAISE(ABORT, 'rollouts unwritable'); END;`);
  t.is(codeOf(await t.throwsAsync(calls.setRollout({ model: name, stable_version: '1', canary_version: '2', canary_weight: 10 }))), Status.INTERNAL);
  await unchanged('rollout update failed');
  db.exec('DROP TRIGGER rollout_fails');

  // 3. Both succeed together: the row names the write's revision, from the one before it.
  const moved = await calls.setRollout({ model: name, stable_version: '1', canary_version: '2', canary_weight: 10 });
  t.is(moved.revision, rollout.revision + 1);
  const [row] = (await modelAudit()).events;
  t.like(row, { action: 'SetRollout', model: name, actor: 'spiffe://maas/admin', from_revision: rollout.revision, to_revision: moved.revision });
  t.is((await modelAudit()).events.length, before.audit.length + 1);
});
