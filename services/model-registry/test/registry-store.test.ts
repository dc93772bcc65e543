import path from 'node:path';
import test from 'ava';
import Database from 'better-sqlite3';
import type { Artifact__Output, ModelManifest__Output } from '@maas/protos';
import { Status, validateManifest } from '@maas/protos';
import { RegistryStore, SCHEMA_VERSION, type AliasChange, type RolloutChange } from '../src/registry-store.js';
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
  mirrorPercent: 0,
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
  t.deepEqual(
    snapshot.models.map((model) => model.name),
    ['alpha', 'zeta'],
  );
  t.deepEqual(
    snapshot.models[1]!.versions.map((version) => version.version),
    ['2', '10'],
  );
  t.deepEqual(snapshot.models[1]!.rollout, {
    model: 'zeta',
    stable_version: '',
    canary_version: '',
    canary_weight: 0,
    mirror_percent: 0,
    revision: 0,
    updated_at: '',
  });
  t.deepEqual(snapshot.models[1]!.aliases, []);
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
    [{ mirrorPercent: 10 }, 'mirror_percent: must be 0 without a canary_version'],
    [{ canaryVersion: '2', mirrorPercent: 101 }, 'mirror_percent: must be from 0 to 100'],
    [{ canaryVersion: '2', mirrorPercent: 2.5 }, 'mirror_percent: must be from 0 to 100'],
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

const alias = (change: Partial<AliasChange>): AliasChange => ({
  model: 'm',
  alias: 'production',
  version: '1',
  expectedRevision: 0,
  updatedAt: '2025-01-03T00:00:00.000Z',
  ...change,
});

test('mirror_percent is stored with the rollout; changing only it is a change', async (t) => {
  const store = RegistryStore.open({ file: path.join(await makeTempDir(), 'registry.db') });
  await addVersion(store, 'm', '1');
  await addVersion(store, 'm', '2');
  const shadow = store.setRollout(rollout({ canaryVersion: '2', canaryWeight: 0, mirrorPercent: 25 }));
  t.like(shadow, { changed: true, rollout: { canary_version: '2', canary_weight: 0, mirror_percent: 25, revision: 3 } });
  const more = store.setRollout(rollout({ canaryVersion: '2', canaryWeight: 0, mirrorPercent: 50 }));
  t.like(more, { changed: true, rollout: { mirror_percent: 50, revision: 4 } });
  t.false(store.setRollout(rollout({ canaryVersion: '2', canaryWeight: 0, mirrorPercent: 50 })).changed);
  t.is(store.listModels().models[0]!.rollout!.mirror_percent, 50);
  store.close();
});

test('aliases: set, move, remove; each change bumps the revision, no-ops do not', async (t) => {
  const store = RegistryStore.open({ file: path.join(await makeTempDir(), 'registry.db') });
  await addVersion(store, 'm', '1');
  await addVersion(store, 'm', '2');
  const set = store.setAlias(alias({}));
  t.deepEqual(set, { alias: { name: 'production', version: '1', revision: 3, updated_at: '2025-01-03T00:00:00.000Z' }, previousVersion: '', changed: true });
  t.false(store.setAlias(alias({})).changed);
  store.setAlias(alias({ alias: 'champion', version: '2' }));
  t.deepEqual(
    store.getModel('m')!.aliases.map((entry) => [entry.name, entry.version, entry.revision]),
    [
      ['champion', '2', 4],
      ['production', '1', 3],
    ],
  );
  const moved = store.setAlias(alias({ version: '2', expectedRevision: 3 }));
  t.like(moved, { alias: { version: '2', revision: 5 }, previousVersion: '1', changed: true });
  const removed = store.setAlias(alias({ version: '' }));
  t.like(removed, { alias: { name: 'production', version: '', revision: 6 }, previousVersion: '2', changed: true });
  t.deepEqual(
    store.listModels().models[0]!.aliases.map((entry) => entry.name),
    ['champion'],
  );
  // Removing what is not there is a no-op, like setting what is.
  t.like(store.setAlias(alias({ version: '' })), { alias: { version: '', revision: 0 }, changed: false });
  t.is(store.revision, 6);
  store.close();
});

test('alias rules: INVALID_ARGUMENT for a bad name or one that is a version label, NOT_FOUND, ABORTED when stale', async (t) => {
  const store = RegistryStore.open({ file: path.join(await makeTempDir(), 'registry.db') });
  await addVersion(store, 'm', '1');
  await addVersion(store, 'm', 'v2');
  const code = (fn: () => unknown) => (t.throws(fn) as { code?: number }).code;
  for (const name of ['', 'Production', '1st', 'a_b', 'a'.repeat(64), '-x']) {
    t.is(
      code(() => store.setAlias(alias({ alias: name }))),
      Status.INVALID_ARGUMENT,
      name,
    );
  }
  const labelLike = t.throws(() => store.setAlias(alias({ alias: 'v2' })));
  t.regex(labelLike!.message, /"v2" is a version label of model "m"/);
  t.is(
    code(() => store.setAlias(alias({ model: 'x' }))),
    Status.NOT_FOUND,
  );
  t.is(
    code(() => store.setAlias(alias({ version: '9' }))),
    Status.NOT_FOUND,
  );
  // A new alias is at revision 0: any other expected revision is stale.
  t.is(
    code(() => store.setAlias(alias({ expectedRevision: 1 }))),
    Status.ABORTED,
  );
  const set = store.setAlias(alias({}));
  const stale = t.throws(() => store.setAlias(alias({ version: 'v2', expectedRevision: set.alias.revision - 1 })));
  t.is((stale as { code?: number }).code, Status.ABORTED);
  t.regex(stale!.message, /alias "production" of model "m" is at revision 3, not the expected 2/);
  t.is(store.revision, 3);
  // The namespace is shared the other way too: a version may not take an alias's name.
  t.is(((await t.throwsAsync(() => addVersion(store, 'm', 'production'))) as { code?: number }).code, Status.FAILED_PRECONDITION);
  store.close();
});

test('a database of schema version 1 (before aliases and mirroring) is migrated and keeps its data', async (t) => {
  const file = path.join(await makeTempDir(), 'registry.db');
  // Schema 1 exactly as the first registry wrote it, with a version and a rollout in it.
  const db = new Database(file);
  db.exec(`
    CREATE TABLE schema_version (version INTEGER NOT NULL);
    INSERT INTO schema_version (version) VALUES (1);
    CREATE TABLE registry_revision (id INTEGER PRIMARY KEY CHECK (id = 1), revision INTEGER NOT NULL);
    INSERT INTO registry_revision (id, revision) VALUES (1, 2);
    CREATE TABLE models (name TEXT PRIMARY KEY, created_at TEXT NOT NULL);
    CREATE TABLE versions (id INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL REFERENCES models (name), version TEXT NOT NULL,
      manifest_json TEXT NOT NULL, created_at TEXT NOT NULL, revision INTEGER NOT NULL, UNIQUE (model, version));
    CREATE TABLE artifacts (version_id INTEGER NOT NULL REFERENCES versions (id), position INTEGER NOT NULL, path TEXT NOT NULL,
      sha256 TEXT NOT NULL, size_bytes INTEGER NOT NULL, PRIMARY KEY (version_id, path));
    CREATE INDEX artifacts_by_sha256 ON artifacts (sha256);
    CREATE TABLE rollouts (model TEXT PRIMARY KEY REFERENCES models (name), stable_version TEXT NOT NULL, canary_version TEXT NOT NULL,
      canary_weight INTEGER NOT NULL, revision INTEGER NOT NULL, updated_at TEXT NOT NULL);
  `);
  // A manifest stored before evaluation_file existed.
  const { evaluation_file: _absent, ...oldManifest } = manifestFor('m', '1');
  db.prepare('INSERT INTO models VALUES (?, ?)').run('m', '2025-01-01T00:00:00.000Z');
  db.prepare('INSERT INTO versions (model, version, manifest_json, created_at, revision) VALUES (?, ?, ?, ?, ?)').run(
    'm',
    '1',
    JSON.stringify(oldManifest),
    '2025-01-01T00:00:00.000Z',
    1,
  );
  db.prepare('INSERT INTO rollouts VALUES (?, ?, ?, ?, ?, ?)').run('m', '1', '', 0, 2, '2025-01-01T00:00:00.000Z');
  db.close();

  const store = RegistryStore.open({ file });
  t.is(store.schemaVersion, SCHEMA_VERSION);
  t.is(store.revision, 2);
  const model = store.getModel('m')!;
  t.like(model.rollout, { stable_version: '1', mirror_percent: 0, revision: 2 });
  t.deepEqual(model.aliases, []);
  t.is(model.versions[0]!.manifest!.evaluation_file, '');
  t.like(store.setAlias(alias({})), { alias: { version: '1', revision: 3 } });
  store.close();
});
