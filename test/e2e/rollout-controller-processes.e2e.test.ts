// The rollout controller as `npm start` runs it: the fifth process of the local mesh, wired by the launcher to
// the gateway (quality gate), the gateway's and inference's /metrics, and the data folder's rollouts/ that
// `maasctl apply -f` writes to. One short rollout through the processes: quality gate, 50 %, promoted.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { localPkiDir, registerPackage, runCli, setRollout, startLocalMesh } from '@maas/cli';
import test from 'ava';
import { eventually } from '../support/eventually.js';
import { examplePackage, ROOT_DIR } from '../support/example-models.js';

async function maasctl(env: Record<string, string>, ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { env, stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } });
  return { code, stdout, stderr };
}

test('npm start runs the rollout controller: maasctl apply -f hands it a ModelRollout, maasctl rollout status follows it to Promoted', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'maas-rollout-processes-'));
  const mesh = await startLocalMesh({
    rootDir: ROOT_DIR,
    dataDir,
    ports: 'free',
    env: { LOG_LEVEL: 'warn', NATS_URL: 'nats://127.0.0.1:1', RESYNC_INTERVAL_NO_NATS_MS: '200', RESYNC_INTERVAL_MS: '200' },
  });
  t.teardown(async () => {
    await mesh.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const registryAddress = mesh.addresses['model-registry'];
  for (const version of ['1', '2']) await registerPackage({ client: mesh.clientOptions, registryAddress, packageDir: examplePackage('sentiment', version) });
  await setRollout({ client: mesh.clientOptions, registryAddress, model: 'sentiment', stableVersion: '1' });

  const env = { MAAS_ROLLOUTS_DIR: path.join(dataDir, 'rollouts'), MAAS_REGISTRY: registryAddress, MAAS_PKI_DIR: localPkiDir(dataDir) };
  const file = path.join(dataDir, 'rollout.yaml');
  writeFileSync(
    file,
    'apiVersion: maas.dev/v1alpha1\nkind: ModelRollout\nmetadata:\n  name: sentiment\nspec:\n  model: sentiment\n  stable: "1"\n  candidate: "2"\n  steps:\n    - qualityGate: {}\n    - setWeight: 50\n',
  );
  const applied = await maasctl(env, 'apply', '-f', file);
  t.is(applied.code, 0, applied.stderr);

  const status = await eventually(
    'the rollout promoted',
    async () => {
      const shown = await maasctl(env, 'rollout', 'status', 'sentiment', '--output', 'json');
      if (shown.code !== 0) throw new Error(shown.stderr);
      const doc = JSON.parse(shown.stdout) as {
        status?: { phase?: string; message?: string; lastQualityGate?: { result: string; texts: number } };
        events: Array<{ reason: string }>;
      };
      if (doc.status?.phase !== 'Promoted') throw new Error(`phase ${doc.status?.phase}: ${doc.status?.message}`);
      return doc;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  t.like(status.status?.lastQualityGate, { result: 'Passed', texts: 480 });
  t.deepEqual(
    status.events.map((event) => event.reason),
    ['RolloutStarted', 'QualityGatePassed', 'WeightSet', 'Promoted'],
  );
  const models = await maasctl(env, 'models', '--output', 'json');
  t.like(JSON.parse(models.stdout).models.find((model: { name: string }) => model.name === 'sentiment').rollout, { stable_version: '2', canary_version: '' });
});
