import type { ListModelsResponse__Output, ModelManifest__Output } from '@maas/protos';
import { Status } from '@maas/protos';
import test from 'ava';
import { buildRoutingTable, isReferenced, lookupVersion, pickVersion, referencedVersions, stickyBucket, type RoutingTable } from '../src/router.js';

function manifest(name: string, version: string): ModelManifest__Output {
  return {
    format_version: 1,
    name,
    version,
    task: 'text-classification',
    platform: 'onnxruntime_onnx',
    description: '',
    model_file: 'model.onnx',
    inputs: [],
    outputs: [{ name: 'probability', datatype: 'FP32', shape: [-1, 1], role: '' }],
    tokenizer: null,
    labels: ['negative', 'positive'],
    output_activation: 'none',
    files: [],
    metrics: {},
  };
}

function snapshot(rollouts: Array<{ model: string; versions: string[]; stable?: string; canary?: string; weight?: number }>): ListModelsResponse__Output {
  return {
    revision: 7,
    models: rollouts.map((entry) => ({
      name: entry.model,
      versions: entry.versions.map((version) => ({ model: entry.model, version, manifest: manifest(entry.model, version), artifacts: [], created_at: '', revision: 1 })),
      rollout: { model: entry.model, stable_version: entry.stable ?? '', canary_version: entry.canary ?? '', canary_weight: entry.weight ?? 0, revision: 1, updated_at: '' },
    })),
  };
}

const canaryTable = (weight: number): RoutingTable => buildRoutingTable(snapshot([{ model: 'sentiment', versions: ['1', '2'], stable: '1', canary: '2', weight }]));
const allReady = () => true;
const keys = (count: number) => Array.from({ length: count }, (_, index) => `user-${index}`);

test('buildRoutingTable keeps rollouts and manifests; referencedVersions lists stable and canary', (t) => {
  const table = buildRoutingTable(snapshot([
    { model: 'sentiment', versions: ['1', '2', '3'], stable: '1', canary: '2', weight: 10 },
    { model: 'spam', versions: ['1'] },
  ]));
  t.is(table.revision, 7);
  t.deepEqual(table.models.get('sentiment')?.canaryWeight, 10);
  t.is(table.models.get('sentiment')?.manifests.size, 3);
  t.deepEqual(referencedVersions(table), [
    { model: 'sentiment', version: '1' },
    { model: 'sentiment', version: '2' },
  ]);
  t.true(isReferenced(table, { model: 'sentiment', version: '2' }));
  t.false(isReferenced(table, { model: 'sentiment', version: '3' }));
});

test('stickyBucket is deterministic, within 0..99 and depends on the canary version', (t) => {
  for (const key of keys(200)) {
    const bucket = stickyBucket(key, 'sentiment', '2');
    t.true(Number.isInteger(bucket) && bucket >= 0 && bucket < 100);
    t.is(stickyBucket(key, 'sentiment', '2'), bucket);
  }
  const moved = keys(200).filter((key) => stickyBucket(key, 'sentiment', '2') !== stickyBucket(key, 'sentiment', '3')).length;
  t.true(moved > 150, `a new canary should reshuffle cohorts, only ${moved}/200 keys moved`);
});

test('the same routing key always gets the same version for a rollout', (t) => {
  const table = canaryTable(30);
  for (const key of keys(100)) {
    const first = pickVersion(table, { model: 'sentiment', routingKey: key, isReady: allReady }).version;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      t.is(pickVersion(table, { model: 'sentiment', routingKey: key, isReady: allReady, random: Math.random }).version, first);
    }
  }
});

test('different keys spread by the canary weight', (t) => {
  for (const weight of [0, 5, 20, 50, 90, 100]) {
    const table = canaryTable(weight);
    const canary = keys(10_000).filter((key) => pickVersion(table, { model: 'sentiment', routingKey: key, isReady: allReady }).version === '2').length;
    const percent = canary / 100;
    t.true(Math.abs(percent - weight) <= 2, `weight ${weight}: ${percent}% of keys went to the canary`);
  }
});

test('raising the weight only adds keys to the canary', (t) => {
  const low = canaryTable(10);
  const high = canaryTable(60);
  for (const key of keys(2_000)) {
    if (pickVersion(low, { model: 'sentiment', routingKey: key, isReady: allReady }).version === '2') {
      t.is(pickVersion(high, { model: 'sentiment', routingKey: key, isReady: allReady }).version, '2');
    }
  }
});

test('without a key the draw follows the weight', (t) => {
  const table = canaryTable(25);
  t.is(pickVersion(table, { model: 'sentiment', isReady: allReady, random: () => 0.24 }).version, '2');
  t.is(pickVersion(table, { model: 'sentiment', isReady: allReady, random: () => 0.25 }).version, '1');
  t.is(pickVersion(table, { model: 'sentiment', routingKey: '', isReady: allReady, random: () => 0.9 }).target, 'stable');
});

test('never routes to a version that is not ready', (t) => {
  const table = canaryTable(50);
  const onlyStable = (_model: string, version: string) => version === '1';
  const onlyCanary = (_model: string, version: string) => version === '2';
  for (const key of keys(500)) {
    const toStable = pickVersion(table, { model: 'sentiment', routingKey: key, isReady: onlyStable });
    t.is(toStable.version, '1');
    const toCanary = pickVersion(table, { model: 'sentiment', routingKey: key, isReady: onlyCanary });
    t.is(toCanary.version, '2');
    t.is(toCanary.fallback, stickyBucket(key, 'sentiment', '2') >= 50);
  }
  const error = t.throws(() => pickVersion(table, { model: 'sentiment', routingKey: 'k', isReady: () => false }));
  t.is((error as { code?: number }).code, Status.UNAVAILABLE);
  t.regex(error!.message, /no ready version of model "sentiment"/);
});

test('a canary at weight 0 gets no traffic but still backs a stable that is not ready', (t) => {
  const table = canaryTable(0);
  for (const key of keys(300)) t.is(pickVersion(table, { model: 'sentiment', routingKey: key, isReady: allReady }).version, '1');
  t.is(pickVersion(table, { model: 'sentiment', isReady: (_m, v) => v === '2' }).version, '2');
});

test('unknown model is NOT_FOUND, a model without rollout FAILED_PRECONDITION', (t) => {
  const table = buildRoutingTable(snapshot([{ model: 'spam', versions: ['1'] }]));
  t.is((t.throws(() => pickVersion(table, { model: 'nope', isReady: allReady })) as { code?: number }).code, Status.NOT_FOUND);
  t.is((t.throws(() => pickVersion(table, { model: 'spam', isReady: allReady })) as { code?: number }).code, Status.FAILED_PRECONDITION);
});

test('lookupVersion answers the manifest or NOT_FOUND', (t) => {
  const table = canaryTable(10);
  t.is(lookupVersion(table, { model: 'sentiment', version: '2' }).version, '2');
  t.is((t.throws(() => lookupVersion(table, { model: 'sentiment', version: '9' })) as { code?: number }).code, Status.NOT_FOUND);
  t.is((t.throws(() => lookupVersion(table, { model: 'other', version: '1' })) as { code?: number }).code, Status.NOT_FOUND);
});
