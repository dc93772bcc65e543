// The rollout controller against the real mesh (registry, tokenizer, inference, gateway in process, real gRPC,
// the example sentiment packages) with the local document source: ModelRollout YAML handed over with
// `maasctl apply -f`, status read back with `maasctl rollout status`, a pause resumed with `maasctl rollout
// resume`. Steady Classify load runs through every scenario and must see no failed call. Short intervals
// (1 s windows, a 100 ms resync) keep the whole file to a few tens of seconds.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { registerPackage, runCli, setRollout } from '@maas/cli';
import { contracts, type ClassifyResponse__Output, type GatewayClient, type Model__Output, type ModelRegistryClient } from '@maas/protos';
import {
  loadConfig,
  readStatusFile,
  startRolloutController,
  writeRollout,
  type ModelRolloutStatus,
  type RunningRolloutController,
} from '@maas/rollout-controller';
import { createClient, createLogger, unaryCall } from '@maas/shared';
import anyTest, { type TestFn } from 'ava';
import { eventually } from '../support/eventually.js';
import { examplePackage } from '../support/example-models.js';
import { startInProcessMesh, type InProcessMesh } from '../support/in-process-mesh.js';
import { repackage } from '../support/model-packages.js';
import { adminClient, testPki } from '../support/test-pki.js';

interface Load {
  ok: number;
  failed: Array<{ code?: number; message: string }>;
  stop(): Promise<void>;
}

interface Context {
  tmp: string;
  rolloutsDir: string;
  mesh: InProcessMesh;
  controller: RunningRolloutController;
  gateway: GatewayClient;
  registry: ModelRegistryClient;
  load: Load;
}
const test = anyTest as TestFn<Context>;

const TEXTS = ['Overall it was brilliant! 10/10', 'well, this sci-fi epic was not worth the money...', 'a dull, lifeless film', 'I loved every minute of it'];

/** Classify calls from `concurrency` loops until stopped; every failure is kept. */
function startLoad(gateway: GatewayClient, concurrency: number): Load {
  let running = true;
  const load: Load = { ok: 0, failed: [], stop: async () => undefined };
  const loops = Array.from({ length: concurrency }, async (_, worker) => {
    for (let call = 0; running; call += 1) {
      try {
        await unaryCall<object, ClassifyResponse__Output>(
          (r, md, o, cb) => gateway.Classify(r, md, o, cb),
          { model: 'sentiment', texts: [TEXTS[(worker + call) % TEXTS.length]!] },
          { deadline: 10_000 },
        );
        load.ok += 1;
      } catch (error) {
        load.failed.push({ code: (error as { code?: number }).code, message: (error as Error).message });
      }
    }
  });
  load.stop = async () => {
    running = false;
    await Promise.all(loops);
  };
  return load;
}

test.before(async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'maas-rollout-controller-'));
  const sentiment1 = examplePackage('sentiment', '1');
  // Version 5: sentiment/1's model with its labels swapped: it answers "negative" for every positive text.
  const swapped = repackage(sentiment1, path.join(tmp, 'sentiment-5'), { version: '5' });
  const manifestPath = path.join(swapped, 'maas.json');
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  manifest.labels = [...manifest.labels].reverse();
  fs.writeFileSync(manifestPath, JSON.stringify(manifest));

  const mesh = await startInProcessMesh({
    env: { NATS_URL: 'nats://127.0.0.1:1', RESYNC_INTERVAL_NO_NATS_MS: '100' },
    // The test's load and the quality gates are one caller (the test key): no per-caller rate limit in the way.
    serviceEnv: { gateway: { METRICS_PORT: '0', READINESS_POLL_MS: '100', RATE_LIMIT_RPS: '0' }, inference: { METRICS_PORT: '0' } },
    beforeConsumers: async (registryAddress) => {
      for (const packageDir of [sentiment1, examplePackage('sentiment', '2'), swapped])
        await registerPackage({ client: adminClient(), registryAddress, packageDir });
      await setRollout({ client: adminClient(), registryAddress, model: 'sentiment', stableVersion: '1' });
    },
  });
  const rolloutsDir = path.join(tmp, 'rollouts');
  // The controller's certificate from the test CA, and a key the gateway knows for its quality gates.
  const pki = await testPki();
  const tokenFile = path.join(tmp, 'gateway-token');
  fs.writeFileSync(tokenFile, pki.token);
  const controller = await startRolloutController(
    loadConfig({
      ...pki.env('rollout-controller'),
      GATEWAY_TOKEN_FILE: tokenFile,
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: '0',
      METRICS_PORT: '0',
      SHUTDOWN_GRACE_MS: '0',
      LOG_LEVEL: 'silent',
      ROLLOUTS_DIR: rolloutsDir,
      REGISTRY_ADDRESS: mesh.addresses.registry,
      GATEWAY_ADDRESS: mesh.addresses.gateway,
      METRICS_TARGETS: `http://127.0.0.1:${mesh.metricsPorts.gateway}/metrics,http://127.0.0.1:${mesh.metricsPorts.inference}/metrics`,
      RESYNC_INTERVAL_MS: '100',
    }),
    { logger: createLogger({ service: 'rollout-controller', level: process.env.TEST_LOG_LEVEL ?? 'silent' }) },
  );
  await controller.ready;
  const gateway = createClient(contracts().maas.v1.Gateway, mesh.addresses.gateway, mesh.clientOptions());
  const registry = createClient(contracts().maas.v1.ModelRegistry, mesh.addresses.registry, mesh.clientOptions());
  t.context = { tmp, rolloutsDir, mesh, controller, gateway, registry, load: startLoad(gateway, 4) };
});

test.after.always(async (t) => {
  if (!t.context.mesh) return;
  await t.context.load.stop();
  await t.context.controller.stop();
  t.context.gateway.close();
  t.context.registry.close();
  await t.context.mesh.stop();
  fs.rmSync(t.context.tmp, { recursive: true, force: true });
});

/** Runs maasctl in process against the test's rollouts folder and registry. */
async function maasctl(t: { context: Context }, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    env: { MAAS_ROLLOUTS_DIR: t.context.rolloutsDir, MAAS_REGISTRY: t.context.mesh.addresses.registry, MAAS_PKI_DIR: (await testPki()).dir },
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

/**
 * Writes a ModelRollout YAML and applies it with `maasctl apply -f`; resolves to the generation the document
 * had before (what waitForPhase must see the controller move past).
 */
async function apply(t: { context: Context; is: (a: unknown, b: unknown, m?: string) => void }, yaml: string): Promise<number> {
  const before = readStatusFile(t.context.rolloutsDir, 'sentiment')?.generation ?? 0;
  const file = path.join(t.context.tmp, `rollout-${Date.now()}.yaml`);
  fs.writeFileSync(file, yaml);
  const result = await maasctl(t, 'apply', '-f', file);
  t.is(result.code, 0, result.stderr);
  t.is(result.stdout.trim(), 'modelrollout.maas.dev/sentiment configured');
  return before;
}

function statusOf(t: { context: Context }, name = 'sentiment'): ModelRolloutStatus {
  return readStatusFile(t.context.rolloutsDir, name)?.status ?? {};
}

/** The reasons of the events since the current rollout started (the file keeps earlier ones too). */
function eventsOf(t: { context: Context }, name = 'sentiment'): string[] {
  const reasons = (readStatusFile(t.context.rolloutsDir, name)?.events ?? []).map((event) => event.reason);
  return reasons.slice(reasons.lastIndexOf('RolloutStarted'));
}

/** Waits until the controller has reconciled a generation after `afterGeneration` into `phase`. */
async function waitForPhase(t: { context: Context }, phase: string, afterGeneration: number, timeoutMs = 40_000): Promise<ModelRolloutStatus> {
  return eventually(
    `rollout phase ${phase}`,
    () => {
      const status = statusOf(t);
      if ((status.observedGeneration ?? 0) <= afterGeneration) throw new Error(`generation ${afterGeneration} not reconciled yet`);
      if (status.phase !== phase) throw new Error(`phase ${status.phase} (${status.message})`);
      return status;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

function rolloutOf(t: { context: Context }) {
  return unaryCall<object, Model__Output>((r, md, o, cb) => t.context.registry.GetModel(r, md, o, cb), { name: 'sentiment' }, { deadline: 5_000 }).then(
    (model) => model.rollout!,
  );
}

function document(options: { stable: string; candidate: string; steps: string; onFailure?: string }): string {
  return `apiVersion: maas.dev/v1alpha1
kind: ModelRollout
metadata:
  name: sentiment
spec:
  model: sentiment
  stable: "${options.stable}"
  candidate: "${options.candidate}"
  interval: 1s
  onFailure: ${options.onFailure ?? 'rollback'}
  analysis:
    minRequests: 5
    # Millisecond compute latencies on a shared 2-core machine under the whole suite are noise (4 ms vs 0.5 ms
    # was seen): the p99 rule is unit-tested; here it only must not flake.
    maxP99LatencyRatio: 100
    minAgreement: 0.9
    maxScoreDifference: 0.2
  steps:
${options.steps}`;
}

test.serial('a healthy candidate steps 10 -> 50 with an analysis after each and is promoted by the controller', async (t) => {
  const seenWeights = new Set<number>();
  const watcher = setInterval(
    () =>
      void rolloutOf(t)
        .then((rollout) => rollout.canary_version === '2' && seenWeights.add(rollout.canary_weight))
        .catch(() => undefined),
    50,
  );
  const generation = await apply(
    t,
    document({ stable: '1', candidate: '2', steps: '  - setWeight: 10\n  - analysis: {}\n  - setWeight: 50\n  - analysis: {}\n' }),
  );
  const status = await waitForPhase(t, 'Promoted', generation);
  clearInterval(watcher);
  const rollout = await rolloutOf(t);
  t.is(rollout.stable_version, '2');
  t.is(rollout.canary_version, '');
  t.true(seenWeights.has(10) && seenWeights.has(50), `weights seen in the registry: ${[...seenWeights]}`);
  t.is(status.lastAnalysis?.result, 'Passed');
  t.true(status.lastAnalysis!.candidate.requests >= 5);
  t.is(status.lastAnalysis!.candidate.errorRatio, 0);
  t.deepEqual(
    eventsOf(t).filter((reason) => reason !== 'RegistryConflict'),
    ['RolloutStarted', 'WeightSet', 'AnalysisPassed', 'WeightSet', 'AnalysisPassed', 'Promoted'],
  );
  t.true(status.conditions!.some((condition) => condition.type === 'Promoted' && condition.status === 'True'));
  const shown = await maasctl(t, 'rollout', 'status', 'sentiment');
  t.is(shown.code, 0, shown.stderr);
  t.regex(shown.stdout, /Phase:\s+Promoted/);
  t.regex(shown.stdout, /Analysis:\s+Passed/);
});

test.serial('a candidate that disagrees with stable on mirrored traffic is rolled back by the controller before it takes any traffic', async (t) => {
  const generation = await apply(t, document({ stable: '2', candidate: '5', steps: '  - mirror: 100\n  - analysis: {}\n  - setWeight: 50\n' }));
  const status = await waitForPhase(t, 'RolledBack', generation);
  t.is(status.lastAnalysis?.result, 'Failed');
  t.true(status.lastAnalysis!.agreement! < 0.1, `agreement ${status.lastAnalysis!.agreement}`);
  t.true(status.lastAnalysis!.failures.some((failure) => failure.startsWith('label agreement')));
  t.is(status.weight, 0);
  const rollout = await rolloutOf(t);
  t.deepEqual([rollout.stable_version, rollout.canary_version, rollout.canary_weight, rollout.mirror_percent], ['2', '', 0, 0]);
  t.true(eventsOf(t).includes('AnalysisFailed'));
});

test.serial('a quality gate stops a worse candidate: the evaluation set through the serving path, before any user traffic', async (t) => {
  const generation = await apply(t, document({ stable: '2', candidate: '5', steps: '  - qualityGate: {maxDrop: 0.02}\n  - setWeight: 50\n' }));
  const status = await waitForPhase(t, 'RolledBack', generation);
  const gate = status.lastQualityGate!;
  t.is(gate.result, 'Failed');
  t.is(gate.texts, 480);
  t.true(gate.stable.accuracy > 0.9 && gate.candidate.accuracy < 0.1, `accuracy ${gate.candidate.accuracy} vs ${gate.stable.accuracy}`);
  t.is(status.weight, 0);
  t.true(eventsOf(t).includes('QualityGateFailed'));
  t.false(eventsOf(t).includes('WeightSet'));
  const rollout = await rolloutOf(t);
  t.deepEqual([rollout.stable_version, rollout.canary_version], ['2', '']);
});

test.serial('a rollout paused at a pause step waits, and `maasctl rollout resume` lets it finish', async (t) => {
  const generation = await apply(
    t,
    document({ stable: '2', candidate: '1', steps: '  - qualityGate: {}\n  - setWeight: 20\n  - pause: {}\n  - setWeight: 60\n' }),
  );
  const paused = await waitForPhase(t, 'Paused', generation);
  t.is(paused.currentStepIndex, 2);
  t.is(paused.lastQualityGate?.result, 'Passed');
  // Still paused a while later, at 20 %.
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.is(statusOf(t).phase, 'Paused');
  const rollout = await rolloutOf(t);
  t.deepEqual([rollout.stable_version, rollout.canary_version, rollout.canary_weight], ['2', '1', 20]);
  const resumed = await maasctl(t, 'rollout', 'resume', 'sentiment');
  t.is(resumed.code, 0, resumed.stderr);
  t.is(resumed.stdout.trim(), 'modelrollout.maas.dev/sentiment resumed');
  await waitForPhase(t, 'Promoted', generation);
  t.is((await rolloutOf(t)).stable_version, '1');
  t.true(eventsOf(t).includes('Resumed'));
});

test.serial('a write with a stale expected_revision is re-read and retried, never lost', async (t) => {
  const before = await rolloutOf(t);
  // Someone else changes the rollout after the controller read it.
  await setRollout({
    client: adminClient(),
    registryAddress: t.context.mesh.addresses.registry,
    model: 'sentiment',
    stableVersion: '1',
    canaryVersion: '2',
    canaryWeight: 0,
  });
  const result = await writeRollout({
    registry: t.context.registry,
    model: 'sentiment',
    desired: { stable: '1', canary: '', weight: 0, mirror: 0 },
    knownRevision: Number(before.revision),
    deadlineMs: 5_000,
  });
  t.is(result.conflicts, 1);
  t.true(result.written);
  const after = await rolloutOf(t);
  t.deepEqual([after.stable_version, after.canary_version], ['1', '']);
  t.true(Number(after.revision) > Number(before.revision) + 1);
});

test.serial('no Classify call failed under load across every rollout above', async (t) => {
  await t.context.load.stop();
  t.deepEqual(t.context.load.failed.slice(0, 5), []);
  t.true(t.context.load.ok > 500, `${t.context.load.ok} calls answered`);
});
