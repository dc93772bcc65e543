/**
 * ModelManager against the real model registry (in-process, port 0) with tiny ONNX models: what happens to a
 * loaded version when the rollout stops referencing it (it drains, then unloads).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ListModelsResponse__Output, SetRolloutRequest } from '@maas/protos';
import { Status } from '@maas/protos';
import { unaryCall } from '@maas/shared';
import anyTest, { type TestFn } from 'ava';
import { eventually } from '../../../test/support/eventually.js';
import pino from 'pino';
import * as client from 'prom-client';
import { loadConfig } from '../src/config.js';
import { createInferenceMetrics, type InferenceMetrics } from '../src/inference-metrics.js';
import { ModelManager } from '../src/model-manager.js';
import { classifierManifest, registerPackage, setRollout, startRegistry, TOKENIZER_FILE, type RegistryFixture } from './helpers/registry-fixture.js';
import { tinyClassifier } from './helpers/tiny-onnx.js';

const logger = pino({ level: 'silent' });
/** Long enough that a check made right after the new stable version is ready reliably falls inside it. */
const DRAIN_MS = 1_000;

const test = anyTest as TestFn<{ tmp: string; registry: RegistryFixture }>;

test.before(async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'maas-model-manager-'));
  const registry = await startRegistry({ dataDir: path.join(tmp, 'registry'), logger });
  t.context = { tmp, registry };
});

test.after.always(async (t) => {
  await t.context.registry?.stop();
  if (t.context.tmp) fs.rmSync(t.context.tmp, { recursive: true, force: true });
});

/** Registers versions of `model`: tiny classifiers, and ones whose model file cannot load. */
async function registerModel(registry: RegistryFixture, model: string, versions: { good: string[]; broken?: string[] }): Promise<void> {
  const manifest = (version: string) => classifierManifest({ name: model, version, inputShape: [-1, 8], output: { name: 'probability', shape: [-1, 1] } });
  for (const version of versions.good)
    await registerPackage(registry.client, manifest(version), {
      'model.onnx': tinyClassifier({ bias: Number(version) / 10 }),
      'tokenizer.json': TOKENIZER_FILE,
    });
  for (const version of versions.broken ?? [])
    await registerPackage(registry.client, manifest(version), {
      'model.onnx': new TextEncoder().encode('not an ONNX model'),
      'tokenizer.json': TOKENIZER_FILE,
    });
}

/** A manager fed by hand: `rollout` sets the registry's rollout and applies the snapshot, as watchRegistry would. */
function startManager(t: import('ava').ExecutionContext<{ tmp: string; registry: RegistryFixture }>, model: string) {
  const { registry, tmp } = t.context;
  const metricsRegistry = new client.Registry();
  const metrics: InferenceMetrics = createInferenceMetrics(metricsRegistry);
  const config = loadConfig({
    TLS_MODE: 'plaintext',
    MODEL_CACHE_DIR: path.join(tmp, `cache-${model}`),
    UNLOAD_DRAIN_MS: String(DRAIN_MS),
    LOG_LEVEL: 'silent',
  });
  const manager = new ModelManager({ registry: registry.client, config, logger, metrics });
  t.teardown(() => manager.close());
  const listModels = () => unaryCall<object, ListModelsResponse__Output>((r, md, o, cb) => registry.client.ListModels(r, md, o, cb), {}, { deadline: 10_000 });
  return {
    manager,
    async rollout(request: Omit<SetRolloutRequest, 'model'>) {
      await setRollout(registry.client, { model, ...request });
      manager.applySnapshot(await listModels());
    },
    /** Whether `version` answers, or the status code it is refused with. */
    serves(version: string): true | number {
      const error = refusal(manager, model, version);
      return error ? error.code : true;
    },
    /** Why `version` is refused ('' when it answers). */
    refusedBecause(version: string): string {
      return refusal(manager, model, version)?.message ?? '';
    },
    async draining(version: string): Promise<number> {
      const values = (await metrics.modelDraining.get()).values;
      return values.find((value) => value.labels.model === model && value.labels.version === version)?.value ?? 0;
    },
    async loads(version: string): Promise<number> {
      const values = (await metrics.modelLoads.get()).values;
      return values.find((value) => value.labels.model === model && value.labels.version === version && value.labels.result === 'ok')?.value ?? 0;
    },
  };
}

function refusal(manager: ModelManager, model: string, version: string): { code: number; message: string } | undefined {
  try {
    manager.resolve(model, version);
    return undefined;
  } catch (error) {
    return error as { code: number; message: string };
  }
}

/** This file's waits: up to 20 s each (a model load on a busy machine), checked every 10 ms. */
function until(what: string, check: () => boolean | Promise<boolean>): Promise<true> {
  return eventually(what, check, { timeoutMs: 20_000, intervalMs: 10 });
}

test('a version the rollout drops keeps serving while the new stable version is not ready, then for the drain time', async (t) => {
  await registerModel(t.context.registry, 'drain-a', { good: ['1', '2'], broken: ['3'] });
  const { manager, rollout, serves, refusedBecause, draining } = startManager(t, 'drain-a');
  await rollout({ stable_version: '1' });
  await manager.firstSnapshotSettled;
  t.is(serves('1'), true);

  // Promote to a version that cannot load: version 1 stays, well past the drain time.
  await rollout({ stable_version: '3' });
  await until('version 3 to fail', () => /failed to load/.test(refusedBecause('3')));
  t.is(serves('3'), Status.UNAVAILABLE);
  // A fixed wait on purpose: it proves that nothing happens within 1.5 drain times (version 1 is not dropped).
  await new Promise((resolve) => setTimeout(resolve, DRAIN_MS * 1.5));
  t.is(serves('1'), true, 'the previous stable version is kept while the new one is not ready');
  t.is(await draining('1'), 1);

  // Promote to a version that loads: once it is ready, version 1 serves on for the drain time, then unloads.
  await rollout({ stable_version: '2' });
  await until('version 2 to be ready', () => serves('2') === true);
  t.is(serves('1'), true, 'kept during the drain');
  await until('version 1 to unload', () => serves('1') !== true);
  t.is(serves('1'), Status.FAILED_PRECONDITION, 'a version no rollout references and not loaded is refused as before');
  t.is(await draining('1'), 0);
  t.deepEqual(manager.readyVersions('drain-a'), ['2']);
});

test('a rollback to a draining version keeps it, without a reload, and drains the other one', async (t) => {
  await registerModel(t.context.registry, 'drain-b', { good: ['1', '2'] });
  const { manager, rollout, serves, draining, loads } = startManager(t, 'drain-b');
  await rollout({ stable_version: '1' });
  await manager.firstSnapshotSettled;

  await rollout({ stable_version: '2' });
  await until('version 2 to be ready', () => serves('2') === true);
  t.is(await draining('1'), 1);

  await rollout({ stable_version: '1' });
  t.is(await draining('1'), 0);
  t.is(await draining('2'), 1);
  await until('version 2 to unload', () => serves('2') !== true);
  t.is(serves('2'), Status.FAILED_PRECONDITION);
  t.is(serves('1'), true, 'version 1 is stable again and stays');
  t.is(await loads('1'), 1, 'version 1 was never loaded twice');
});
