// The mirror's bookkeeping over the gateway's real Coalescer, with a batch executor the test controls (the
// mirror against the real mesh, with real models, is in test/integration/rollout-serving.test.ts).
import { Status } from '@maas/protos';
import { createLogger, GrpcError } from '@maas/shared';
import test from 'ava';
import { Registry } from 'prom-client';
import type { ClassifyMeta } from '../src/classify-handler.js';
import { Coalescer, type Batch } from '../src/coalescer.js';
import { compareAnswers, createMirrorMetrics, TrafficMirror } from '../src/mirror.js';
import type { LabelScore } from '../src/postprocess.js';
import type { RouteDecision } from '../src/router.js';
import { manifest } from './helpers/routing-snapshots.js';

const logger = createLogger({ service: 'gateway-test', level: 'silent' });
const stable: RouteDecision = { version: '1', manifest: manifest('m', '1'), target: 'stable', fallback: false };
const answer = (texts: string[], results: LabelScore[]) => ({ model: 'm', decision: stable, texts, results });
const pair = { model: 'm', stable_version: '1', candidate_version: '2' };

async function counts(registry: Registry) {
  const values = new Map<string, number>();
  for (const metric of await registry.getMetricsAsJSON()) {
    for (const value of metric.values as Array<{ labels: Record<string, string | number>; value: number; metricName?: string }>) {
      const label = value.labels.result ?? value.labels.agreement ?? '';
      values.set(`${value.metricName ?? metric.name}${label ? `:${label}` : ''}`, value.value);
    }
  }
  return values;
}

function setUp(
  t: import('ava').ExecutionContext,
  options: { execute: (batch: Batch<ClassifyMeta>) => Promise<LabelScore[]>; maxInFlight?: number; percent?: number },
) {
  const coalescer = new Coalescer<ClassifyMeta, LabelScore>({ maxDelayMs: 0, maxBatchTexts: 64, maxQueueTexts: 64, maxInFlight: 4, execute: options.execute });
  t.teardown(() => coalescer.close(new Error('test over')));
  const registry = new Registry();
  const mirror = new TrafficMirror({
    coalescer,
    registry,
    targetOf: () => ({ version: '2', manifest: manifest('m', '2'), percent: options.percent ?? 100 }),
    timeoutMs: 1_000,
    maxInFlight: options.maxInFlight ?? 8,
    logger,
    random: () => 0.5,
  });
  return { mirror, registry };
}

test('compareAnswers counts agreement per text and observes the score difference of agreeing texts', async (t) => {
  const registry = new Registry();
  const metrics = createMirrorMetrics({ registry, inFlight: () => 0 });
  compareAnswers(
    metrics,
    pair,
    [
      { label: 'positive', score: 0.9 },
      { label: 'negative', score: 0.8 },
      { label: 'positive', score: 0.6 },
    ],
    [
      { label: 'positive', score: 0.85 },
      { label: 'negative', score: 0.8 },
      { label: 'negative', score: 0.55 },
    ],
  );
  const values = await counts(registry);
  t.is(values.get('maas_gateway_mirror_predictions_total:agree'), 2);
  t.is(values.get('maas_gateway_mirror_predictions_total:disagree'), 1);
  t.is(values.get('maas_gateway_mirror_score_difference_count'), 2);
  t.true(Math.abs(values.get('maas_gateway_mirror_score_difference_sum')! - 0.05) < 1e-9);
});

test('a mirrored call goes through the batch path to the candidate and is compared; offer never waits', async (t) => {
  const batches: Array<{ version: string; texts: string[] }> = [];
  const { mirror, registry } = setUp(t, {
    execute: async (batch) => {
      batches.push({ version: batch.version, texts: batch.texts });
      return batch.texts.map(() => ({ label: 'positive', score: 0.7 }));
    },
  });
  mirror.offer(
    answer(
      ['a', 'b'],
      [
        { label: 'positive', score: 0.75 },
        { label: 'negative', score: 0.9 },
      ],
    ),
  );
  t.is(mirror.pending, 1);
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.deepEqual(batches, [{ version: '2', texts: ['a', 'b'] }]);
  const values = await counts(registry);
  t.is(values.get('maas_gateway_mirror_calls_total:ok'), 1);
  t.is(values.get('maas_gateway_mirror_predictions_total:agree'), 1);
  t.is(values.get('maas_gateway_mirror_predictions_total:disagree'), 1);
  t.is(mirror.pending, 0);
});

test('over the in-flight bound a mirror is dropped, never queued; a failing candidate counts as error', async (t) => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const { mirror, registry } = setUp(t, {
    maxInFlight: 2,
    execute: async () => {
      await held;
      throw new GrpcError(Status.INTERNAL, 'the candidate broke');
    },
  });
  for (let index = 0; index < 5; index += 1) mirror.offer(answer(['x'], [{ label: 'positive', score: 0.9 }]));
  t.is(mirror.pending, 2);
  t.is((await counts(registry)).get('maas_gateway_mirror_calls_total:dropped'), 3);
  release();
  await new Promise((resolve) => setTimeout(resolve, 20));
  const values = await counts(registry);
  t.is(values.get('maas_gateway_mirror_calls_total:error'), 2);
  t.is(values.get('maas_gateway_mirror_predictions_total:agree'), undefined);
  t.is(mirror.pending, 0);
  // Closed: nothing more is mirrored.
  mirror.close();
  mirror.offer(answer(['x'], [{ label: 'positive', score: 0.9 }]));
  t.is(mirror.pending, 0);
});

test('the draw mirrors only the configured share', async (t) => {
  let calls = 0;
  const { mirror } = setUp(t, {
    percent: 40,
    execute: async (batch) => {
      calls += 1;
      return batch.texts.map(() => ({ label: 'positive', score: 0.9 }));
    },
  });
  // random() is 0.5: 50 >= 40, so no call is mirrored.
  mirror.offer(answer(['x'], [{ label: 'positive', score: 0.9 }]));
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.is(calls, 0);
});
