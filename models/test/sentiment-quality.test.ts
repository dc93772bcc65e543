import test from 'ava';
import { join } from 'node:path';
import { DEFAULT_DATA_DIR } from '../src/build-repository.js';
import { readJsonl } from '../src/dataset.js';
import { runSentimentPipeline, type SentimentArtifacts } from '../src/train/sentiment-pipeline.js';

// The shipped recipe on the shipped data: the numbers `npm run models` writes into metrics.json.
let artifacts: SentimentArtifacts;
test.before(async () => {
  const train = await readJsonl(join(DEFAULT_DATA_DIR, 'train.jsonl'));
  const test = await readJsonl(join(DEFAULT_DATA_DIR, 'test.jsonl'));
  artifacts = await runSentimentPipeline({ train, test });
});

test('fp32 reaches accuracy ≥ 0.85 on the test split', (t) => {
  const { fp32, testIds } = artifacts;
  t.is(fp32.count, testIds.count);
  t.true(fp32.accuracy >= 0.85, `accuracy ${fp32.accuracy}`);
  t.true(fp32.f1 >= 0.85, `f1 ${fp32.f1}`);
});

test('training lowered the loss and raised accuracy', (t) => {
  const h = artifacts.trained.history;
  t.true(h[h.length - 1]!.loss < h[0]!.loss / 2);
  t.true(h[h.length - 1]!.accuracy > h[0]!.accuracy);
});

test('int8 labels agree with fp32 on ≥ 98% of the test split, at ≤ 35% of the size', (t) => {
  const { int8Agreement, int8Model, fp32Model, int8 } = artifacts;
  t.true(int8Agreement >= 0.98, `agreement ${int8Agreement}`);
  t.true(int8Model.length <= 0.35 * fp32Model.length, `${int8Model.length} / ${fp32Model.length}`);
  t.true(int8.accuracy >= 0.85, `int8 accuracy ${int8.accuracy}`);
});
