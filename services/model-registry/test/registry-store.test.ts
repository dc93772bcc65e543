import path from 'node:path';
import test from 'ava';
import Database from 'better-sqlite3';
import type { Artifact__Output, ModelManifest__Output } from '@maas/protos';
import { Status, validateManifest } from '@maas/protos';
import { RegistryStore, SCHEMA_VERSION, type RolloutChange } from '../src/registry-store.js';
import { makeTempDir } from '../../../test/support/model-packages.js';
import { nestedFakePackage } from './registry-helpers.js';

function manifestFor(name: string, version: string): ModelManifest__Output {
  const result = validateManifest(nestedFakePackage({ name, version, modelBytes: 16 }).manifest);
  if (!result.ok) throw new Error(result.problems.join('; '));
  return result.manifest;
}

async function addVersion(store: RegistryStore, name: string, version: string) {
  const manifest = manifestFor(name, version);
  const artifacts: Artifact__Output[] = manifest.files.map((file) => ({ path: file.path, sha256: file.sha256, size_bytes: file.size_bytes }));
  return store.insertVersion({ manifest, manifestJson: JSON.stringify(manifest), artifacts, createdAt: '2025-01-01T00:00:00.000Z' });
}

const rollout = (change: Partial<RolloutChange>): RolloutChange => ({
  model: 'm',
  stableVersion: '1',
  canaryVersion: '',
  canaryWeight: 0,
  expectedRevision: 0,
  updatedAt: '2025-01-02T00:00:00.000Z',
  ...change,
});

test('a new database gets the current schema version and revision 0', async (t) => {
  const store = RegistryStore.open({ file: path.join(await makeTempDir(), 'registry.db') });
  t.is(store.schemaVersion, SCHEMA_VERSION);
  t.is(store.revision, 0);
  t.deepEqual(store.listModels(), { models: [], revision: 0 });
  store.close();
});

test('each change bumps the revision; versions list oldest first and models by name', async (t) => {
  const store = RegistryStore.open({ file: path.join(await makeTempDir(), 'registry.db') });
  const v2 = await addVersion(store, 'zeta', '2');
  const v1 = await addVersion(store, 'zeta', '10');
  const other = await addVersion(store, 'alpha', '1');
  t.deepEqual([v2.revision, v1.revision, other.revision], [1, 2, 3]);
  const snapshot = store.listModels();
  t.is(snapshot.revision, 3);
  t.deepEqual(snapshot.models.map((model) => model.name), ['alpha', 'zeta']);
  t.deepEqual(snapshot.models[1]!.versions.map((version) => version.version), ['2', '10']);
  t.deepEqual(snapshot.models[1]!.rollout, { model: 'zeta', stable_version: '', canary_version: '', canary_weight: 0, revision: 0, updated_at: '' });
  t.deepEqual(store.getVersion('zeta', '10')?.artifacts, v1.artifacts);
  t.is(store.getVersion('zeta', '3'), undefined);
  t.is(store.getModel('nope'), undefined);
  store.close();
});

test('a duplicate version is ALREADY_EXISTS and changes nothing', async (t) => {
  const store = RegistryStore.open({ file: path.join(await makeTempDir(), 'registry.db') });
  await addVersion(store, 'm', '1');
  const error = await t.throwsAsync(() => addVersion(store, 'm', '1'));
  t.is((error as { code?: number }).code, Status.ALREADY_EXISTS);
  t.is(store.revision, 1);
  t.is(store.getModel('m')!.versions.length, 1);
  store.close();
});

test('rollout argument rules are INVALID_ARGUMENT naming the field', async (t) => {
  const store = RegistryStore.open({ file: path.join(await makeTempDir(), 'registry.db') });
  await addVersion(store, 'm', '1');
  const cases: Array<[Partial<RolloutChange>, string]> = [
    [{ stableVersion: '' }, 'stable_version'],
    [{ canaryVersion: '1' }, 'canary_version'],
    [{ canaryWeight: 5 }, 'canary_weight: must be 0 without'],
    [{ canaryVersion: '2', canaryWeight: 101 }, 'canary_weight: must be from 0 to 100'],
  ];
  for (const [change, field] of cases) {
    const error = t.throws(() => store.setRollout(rollout(change)));
    t.is((error as { code?: number }).code, Status.INVALID_ARGUMENT);
    t.true(error!.message.includes(field), error!.message);
  }
  t.is(store.revision, 1);
  store.close();
});

test('rollouts: NOT_FOUND for unknown model or version, ABORTED on a stale expected revision, no-op keeps the revision', async (t) => {
  const store = RegistryStore.open({ file: path.join(await makeTempDir(), 'registry.db') });
  await addVersion(store, 'm', '1');
  await addVersion(store, 'm', '2');
  t.is((t.throws(() => store.setRollout(rollout({ model: 'x' }))) as { code?: number }).code, Status.NOT_FOUND);
  t.is((t.throws(() => store.setRollout(rollout({ canaryVersion: '9', canaryWeight: 10 }))) as { code?: number }).code, Status.NOT_FOUND);

  const first = store.setRollout(rollout({ canaryVersion: '2', canaryWeight: 10 }));
  t.true(first.changed);
  t.is(first.rollout.revision, 3);
  t.deepEqual(store.getModel('m')!.rollout, first.rollout);

  const stale = t.throws(() => store.setRollout(rollout({ stableVersion: '2', expectedRevision: 2 })));
  t.is((stale as { code?: number }).code, Status.ABORTED);

  const again = store.setRollout(rollout({ canaryVersion: '2', canaryWeight: 10 }));
  t.false(again.changed);
  t.is(store.revision, 3);

  const promoted = store.setRollout(rollout({ stableVersion: '2', expectedRevision: 3 }));
  t.true(promoted.changed);
  t.is(promoted.rollout.revision, 4);
  t.is(promoted.rollout.canary_version, '');
  store.close();
});

test('state survives reopening, and a database from a newer registry is refused', async (t) => {
  const file = path.join(await makeTempDir(), 'registry.db');
  const store = RegistryStore.open({ file });
  await addVersion(store, 'm', '1');
  store.setRollout(rollout({}));
  const before = store.listModels();
  store.close();

  const reopened = RegistryStore.open({ file });
  t.deepEqual(reopened.listModels(), before);
  t.deepEqual(reopened.storedBlobs().count, 3);
  reopened.close();

  const db = new Database(file);
  db.prepare('UPDATE schema_version SET version = ?').run(SCHEMA_VERSION + 1);
  db.close();
  t.throws(() => RegistryStore.open({ file }), { message: /newer than this registry understands/ });
});

test('reads share one frozen manifest per version: altering it fails and later reads are unaffected', async (t) => {
  const store = RegistryStore.open({ file: path.join(await makeTempDir(), 'registry.db') });
  await addVersion(store, 'm', '1');
  const listed = store.listModels().models[0]!.versions[0]!.manifest!;
  const before = structuredClone(listed);
  t.is(store.getVersion('m', '1')!.manifest, listed);
  t.is(store.getModel('m')!.versions[0]!.manifest, listed);
  t.false(Reflect.set(listed, 'version', '2'));
  t.throws(() => listed.files.push({ path: 'x', sha256: 'y', size_bytes: 1 }), { instanceOf: TypeError });
  t.deepEqual(store.getVersion('m', '1')!.manifest, before);
  store.close();
});
