/** maasctl against a real registry on port 0 (NATS deliberately unreachable: the registry works without it). */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { listModels, registerPackage, runCli } from '../src/index.js';
import { makeTempDir, sha256Hex, uniqueModelName, writeFakePackage } from '../../test/support/model-packages.js';
import { freePort } from '@maas/shared';
import { startTestRegistry, type TestRegistry } from '../../test/support/test-registry.js';
import { adminClient, testPki } from '../../test/support/test-pki.js';

const MAASCTL = path.resolve(__dirname, '../dist/maasctl.js');
const run = promisify(execFile);

let testRegistry: TestRegistry;
let registryAddress: string;
/** maasctl's credential: the test CA's admin certificate, found through MAAS_PKI_DIR as it finds .maas/pki. */
let pkiDir: string;

test.before(async () => {
  testRegistry = await startTestRegistry();
  registryAddress = testRegistry.address;
  pkiDir = (await testPki()).dir;
});

test.after.always(async () => {
  await testRegistry?.stop();
});

const uniqueModel = () => uniqueModelName('cli');

/** A package directory as `npm run models` writes them: the files and a maas.json listing their digests. */
async function writePackage(name: string, version: string, options: { modelBytes?: number } = {}): Promise<string> {
  return (await writeFakePackage({ name, version, modelBytes: options.modelBytes })).dir;
}

/** Runs maasctl in-process and captures what it prints. */
async function maasctl(args: string[], env: NodeJS.ProcessEnv = { MAAS_REGISTRY: registryAddress, MAAS_PKI_DIR: pkiDir }) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { env, stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } });
  return { code, stdout, stderr };
}

test('register, models and rollout (set, promote, rollback) work against the registry', async (t) => {
  const model = uniqueModel();
  const registered = await maasctl(['register', await writePackage(model, '1')]);
  t.is(registered.code, 0, registered.stderr);
  t.regex(registered.stdout, new RegExp(`^registered ${model} version 1 \\(2 files, [\\d.]+ KiB, revision \\d+\\)\\n$`));
  t.is((await maasctl(['register', await writePackage(model, '2'), '--registry', registryAddress], { MAAS_PKI_DIR: pkiDir })).code, 0);

  const canary = await maasctl(['rollout', model, '--stable', '1', '--canary', '2', '--weight', '10', '--mirror', '30']);
  t.is(canary.code, 0, canary.stderr);
  t.regex(canary.stdout, new RegExp(`^${model}: stable 1, canary 2 at 10%, mirroring 30% of stable's traffic to it \\(revision \\d+\\)`));
  const aliased = await maasctl(['alias', model, 'production', '1']);
  t.is(aliased.code, 0, aliased.stderr);
  t.regex(aliased.stdout, new RegExp(`^${model}: alias production -> version 1 \\(revision \\d+\\)`));

  const models = await maasctl(['models']);
  t.is(models.code, 0);
  const [header, ...rows] = models.stdout.trimEnd().split('\n');
  t.deepEqual(header!.split(/\s+/), ['MODEL', 'VERSIONS', 'STABLE', 'CANARY', 'WEIGHT', 'MIRROR', 'REVISION', 'ALIASES']);
  const rolloutRevision = Number(/\(revision (\d+)\)/.exec(canary.stdout)![1]);
  const aliasRevision = Number(/\(revision (\d+)\)/.exec(aliased.stdout)![1]);
  t.true(
    rows.some((row) => row.split(/\s+/).join(' ') === `${model} 1,2 1 2 10% 30% ${rolloutRevision} production=1`),
    models.stdout,
  );
  const asJson = JSON.parse((await maasctl(['models', '--output', 'json'])).stdout) as {
    registry_revision: number;
    models: Array<{ name: string; versions: string[]; rollout: unknown }>;
  };
  t.true(asJson.registry_revision >= rolloutRevision);
  t.deepEqual(
    asJson.models.find((entry) => entry.name === model),
    {
      name: model,
      versions: ['1', '2'],
      rollout: { stable_version: '1', canary_version: '2', canary_weight: 10, mirror_percent: 30, revision: rolloutRevision },
      aliases: { production: { version: '1', revision: aliasRevision } },
    },
  );

  // Aliases move atomically, guarded by their own revision, and go away with --delete.
  const staleAlias = await maasctl(['alias', model, 'production', '2', '--expected-revision', String(aliasRevision + 100)]);
  t.is(staleAlias.code, 1);
  t.true(staleAlias.stderr.startsWith(`error: ABORTED: alias "production" of model "${model}" is at revision ${aliasRevision}`), staleAlias.stderr);
  const moved = await maasctl(['alias', model, 'production', '2', '--expected-revision', String(aliasRevision)]);
  t.regex(moved.stdout, new RegExp(`^${model}: alias production -> version 2 \\(revision \\d+\\)`));
  const deleted = await maasctl(['alias', model, 'production', '--delete']);
  t.is(deleted.code, 0, deleted.stderr);
  t.regex(deleted.stdout, new RegExp(`^${model}: alias production removed \\(revision \\d+\\)`));
  const badAlias = await maasctl(['alias', model, 'Prod', '1']);
  t.true(badAlias.stderr.startsWith('error: INVALID_ARGUMENT: alias: "Prod" must be lowercase'), badAlias.stderr);

  // The REVISION column is what --expected-revision takes: the guarded change goes through with it and is
  // refused (ABORTED) with anything else, here the registry's revision after another model changed.
  const other = uniqueModel();
  await maasctl(['register', await writePackage(other, '1')]);
  const stale = await maasctl(['rollout', model, '--stable', '1', '--canary', '2', '--weight', '20', '--expected-revision', String(rolloutRevision + 1)]);
  t.is(stale.code, 1);
  t.true(stale.stderr.startsWith(`error: ABORTED: rollout of model "${model}" is at revision ${rolloutRevision}`), stale.stderr);
  const guarded = await maasctl(['rollout', model, '--stable', '1', '--canary', '2', '--weight', '10', '--expected-revision', String(rolloutRevision)]);
  t.is(guarded.code, 0, guarded.stderr);

  const promoted = await maasctl(['rollout', model, '--promote']);
  t.is(promoted.code, 0, promoted.stderr);
  t.regex(promoted.stdout, new RegExp(`^${model}: stable 2, no canary`));

  const nothingToRollBack = await maasctl(['rollout', model, '--rollback']);
  t.is(nothingToRollBack.code, 1);
  t.is(nothingToRollBack.stderr, `error: FAILED_PRECONDITION: model "${model}" has no canary to roll back\n`);

  await maasctl(['rollout', model, '--stable', '2', '--canary', '1', '--weight', '50']);
  const rolledBack = await maasctl(['rollout', model, '--rollback']);
  t.regex(rolledBack.stdout, new RegExp(`^${model}: stable 2, no canary`));

  const snapshot = await listModels({ client: adminClient(), registryAddress });
  t.like(snapshot.models.find((entry) => entry.name === model)?.rollout, { stable_version: '2', canary_version: '', canary_weight: 0 });
});

test('remote errors print the status name and message and exit 1', async (t) => {
  const model = uniqueModel();
  const dir = await writePackage(model, '1');
  await registerPackage({ client: adminClient(), registryAddress, packageDir: dir });

  const duplicate = await maasctl(['register', dir]);
  t.is(duplicate.code, 1);
  t.is(duplicate.stderr, `error: ALREADY_EXISTS: model "${model}" version "1" is already registered\n`);

  const unknownModel = await maasctl(['rollout', 'no-such-model', '--stable', '1']);
  t.is(unknownModel.stderr, 'error: NOT_FOUND: model "no-such-model" is not registered\n');
  t.is(unknownModel.code, 1);

  const unknownVersion = await maasctl(['rollout', model, '--stable', '1', '--canary', '7', '--weight', '5']);
  t.is(unknownVersion.stderr, `error: NOT_FOUND: model "${model}" has no version "7"\n`);

  const stale = await maasctl(['rollout', model, '--stable', '1', '--expected-revision', '999']);
  t.is(stale.code, 1);
  t.true(stale.stderr.startsWith('error: ABORTED: '), stale.stderr);

  const tooHeavy = await maasctl(['rollout', model, '--stable', '1', '--canary', '1', '--weight', '5']);
  t.true(tooHeavy.stderr.startsWith('error: INVALID_ARGUMENT: canary_version'), tooHeavy.stderr);

  const missing = await maasctl(['register', path.join(dir, 'nope')]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /^error: cannot read .*maas\.json: ENOENT/);

  const closed = `127.0.0.1:${await freePort()}`;
  const unreachable = await maasctl(['models', '--registry', closed, '--timeout', '2']);
  t.is(unreachable.code, 1);
  t.is(unreachable.stderr, `error: UNAVAILABLE: cannot reach the registry at ${closed} (connection refused)\n`);
  const noGateway = await maasctl(['classify', 'sentiment', 'text', '--gateway', closed, '--timeout', '2']);
  t.is(noGateway.code, 1);
  t.is(noGateway.stderr, `error: UNAVAILABLE: cannot reach the gateway at ${closed} (connection refused)\n`);
});

test('a corrupt file is reported by the registry naming it', async (t) => {
  const model = uniqueModel();
  const dir = await writePackage(model, '1');
  await fs.writeFile(path.join(dir, 'tokenizer.json'), 'x'.repeat((await fs.stat(path.join(dir, 'tokenizer.json'))).size));
  const result = await maasctl(['register', dir]);
  t.is(result.code, 1);
  t.regex(result.stderr, /^error: INVALID_ARGUMENT: file "tokenizer.json": sha256 of the received bytes is/);
});

test('a package of many chunks uploads intact', async (t) => {
  const model = uniqueModel();
  const dir = await writePackage(model, '1', { modelBytes: 3 * 1024 * 1024 + 17 });
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  const version = await registerPackage({ client: adminClient(), registryAddress, packageDir: dir, chunkBytes: 64 * 1024 });
  const data = await fs.readFile(path.join(dir, 'model.onnx'));
  t.like(
    version.artifacts.find((artifact) => artifact.path === 'model.onnx'),
    { sha256: sha256Hex(data), size_bytes: data.length },
  );
});

test('usage errors exit 2 with a hint; --help exits 0', async (t) => {
  for (const args of [
    [],
    ['frobnicate'],
    ['models', 'extra'],
    ['register'],
    ['rollout', 'm'],
    ['rollout', 'm', '--stable', '1', '--canary', '2'],
    ['rollout', 'm', '--stable', '1', '--weight', '5'],
    ['rollout', 'm', '--stable', '1', '--canary', '2', '--weight', 'ten'],
    ['rollout', 'm', '--stable', '1', '--canary', '2', '--weight', '101'],
    ['rollout', 'm', '--promote', '--stable', '1'],
    ['rollout', 'm', '--stable', '1', '--mirror', '5'],
    ['rollout', 'm', '--stable', '1', '--canary', '2', '--weight', '5', '--mirror', '101'],
    ['alias', 'm', 'production'],
    ['alias', 'm', 'production', '1', '--delete'],
    ['classify', 'm', 'text', '--pin', '1', '--routing-key', 'k'],
    ['models', '--stable', '1'],
    ['models', '--bogus'],
    ['models', '--timeout', '0'],
    ['classify', 'm'],
    ['models', '--registry'],
    ['models', '--output', 'yaml'],
    ['rollout', 'm', '--stable', '1', '--output', 'json'],
  ]) {
    const result = await maasctl(args);
    t.is(result.code, 2, `maasctl ${args.join(' ')}: ${result.stderr}`);
    t.true(result.stderr.startsWith('error: ') && result.stderr.includes('maasctl --help'), result.stderr);
    t.is(result.stdout, '');
  }
  const help = await maasctl(['--help']);
  t.is(help.code, 0);
  t.true(help.stdout.includes('usage: maasctl'));
  t.is((await maasctl(['rollout', '-h'])).code, 0);
});

test('the maasctl executable runs commands and sets its exit code', async (t) => {
  const usage = await run(process.execPath, [MAASCTL]).catch((error: { code: number; stderr: string }) => error);
  t.is((usage as { code: number }).code, 2);
  const model = uniqueModel();
  const { stdout } = await run(process.execPath, [MAASCTL, 'register', await writePackage(model, '1')], {
    env: { ...process.env, MAAS_REGISTRY: registryAddress, MAAS_PKI_DIR: pkiDir },
  });
  t.true(stdout.startsWith(`registered ${model} version 1 `), stdout);
  const failed = await run(process.execPath, [MAASCTL, 'rollout', model, '--stable', '5', '--registry', registryAddress], {
    env: { ...process.env, MAAS_PKI_DIR: pkiDir },
  }).catch((error: { code: number; stderr: string }) => error);
  t.like(failed, { code: 1, stderr: `error: NOT_FOUND: model "${model}" has no version "5"\n` });
});

test('keys create prints a token once and stores only its hash; list shows it; revoke marks it', async (t) => {
  const dir = await fs.mkdtemp(path.join(pkiDir, 'keys-'));
  const file = path.join(dir, 'api-keys.json');
  const created = await maasctl(['keys', 'create', '--owner', 'team-a', '--scopes', 'classify:sentiment,infer:*', '--keys-file', file]);
  t.is(created.code, 0, created.stderr);
  const token = created.stdout.trim().split('\n').at(-1)!;
  const id = /^created key (\S+) for team-a \(classify:sentiment, infer:\*\)/.exec(created.stdout)![1]!;
  t.regex(token, new RegExp(`^maas_${id}_[A-Za-z0-9_-]{32,}$`));
  const stored = await fs.readFile(file, 'utf8');
  t.false(stored.includes(token.split('_').at(-1)!), 'the secret is not stored');
  t.regex(stored, /"sha256": "[0-9a-f]{64}"/);
  const listed = await maasctl(['keys', 'list', '--keys-file', file]);
  t.regex(listed.stdout, new RegExp(`${id}\\s+team-a\\s+classify:sentiment,infer:\\*\\s+\\S+\\s+-`));
  t.is((await maasctl(['keys', 'revoke', id, '--keys-file', file])).stdout, `revoked key ${id}\n`);
  t.regex((await maasctl(['keys', 'list', '--keys-file', file])).stdout, new RegExp(`${id}.*\\d{4}-\\d\\d-\\d\\dT\\S+Z\\n$`));
  t.is((await maasctl(['keys', 'create', '--owner', 'x', '--scopes', 'write:all', '--keys-file', file])).code, 2);
  t.is((await maasctl(['keys', 'revoke', 'nope', '--keys-file', file])).code, 1);
});

test("audit lists a model's writes, newest first, with who did them", async (t) => {
  const model = uniqueModel();
  t.is((await maasctl(['register', await writePackage(model, '1')])).code, 0);
  t.is((await maasctl(['rollout', model, '--stable', '1'])).code, 0);
  const audit = await maasctl(['audit', model]);
  t.is(audit.code, 0, audit.stderr);
  const [header, ...rows] = audit.stdout.trimEnd().split('\n');
  t.deepEqual(header!.split(/\s+/), ['TIME', 'ACTOR', 'ACTION', 'MODEL', 'REVISION', 'DETAILS']);
  t.deepEqual(
    rows.map((row) => row.split(/\s+/).slice(1, 4).join(' ')),
    [`spiffe://maas/admin SetRollout ${model}`, `spiffe://maas/admin RegisterVersion ${model}`],
  );
  const json = JSON.parse((await maasctl(['audit', model, '--limit', '1', '--output', 'json'])).stdout) as Array<{ action: string }>;
  t.deepEqual(
    json.map((event) => event.action),
    ['SetRollout'],
  );
});

test('maasctl apply -f refuses an invalid ModelRollout naming every problem and writes nothing; rollout verbs need an applied document', async (t) => {
  const dir = await makeTempDir('maas-rollouts-');
  const file = path.join(dir, 'bad.yaml');
  await fs.writeFile(
    file,
    'apiVersion: maas.dev/v1alpha1\nkind: ModelRollout\nmetadata: {name: s}\nspec: {model: s, stable: "1", candidate: "1", steps: [{setWeight: 120}]}\n',
  );
  const rolloutsDir = path.join(dir, 'rollouts');
  const applied = await maasctl(['apply', '-f', file, '--rollouts-dir', rolloutsDir]);
  t.is(applied.code, 1);
  t.regex(applied.stderr, /spec\.candidate must differ from spec\.stable/);
  t.regex(applied.stderr, /spec\.steps\[0\]\.setWeight must be a whole number from 0 to 100/);
  t.false(existsSync(rolloutsDir) && readdirSync(rolloutsDir).length > 0);
  const resumed = await maasctl(['rollout', 'resume', 's', '--rollouts-dir', rolloutsDir]);
  t.is(resumed.code, 1);
  t.regex(resumed.stderr, /no ModelRollout "s"/);
  t.is((await maasctl(['apply', '--rollouts-dir', rolloutsDir])).code, 2);
});
