import test from 'ava';
import { SeededRandom } from '../src/random.js';
import { DEFAULT_SENTIMENT_PREPROCESSING, encodeSentimentDataset, fitSentimentTokenizer } from '../src/train/sentiment-data.js';
import {
  backwardSentiment,
  createSentimentGradients,
  initSentimentWeights,
  SENTIMENT_WEIGHT_NAMES,
  type SentimentModelConfig,
} from '../src/train/sentiment-model.js';
import type { OptimizerSpec } from '../src/train/optimizers.js';
import { trainSentiment } from '../src/train/trainer.js';
import { tinySentimentDataset } from './fixtures/tiny-sentiment.js';

// A short sequence length keeps the sentiment words a large share of the average, so that every
// optimizer, plain gradient descent included, separates the tiny set within a few hundred steps.
const pre = { ...DEFAULT_SENTIMENT_PREPROCESSING, numWords: 100, maxlen: 30 };
const config: SentimentModelConfig = { vocabSize: 100, embeddingDim: 16, hiddenUnits: 16, sequenceLength: 30 };
const texts = tinySentimentDataset({ count: 400, seed: 1 });
const tokenizer = fitSentimentTokenizer(texts, pre);
const train = encodeSentimentDataset(tokenizer, texts, pre);

const runs: { optimizer: OptimizerSpec; epochs: number }[] = [
  { optimizer: { kind: 'gd', learningRate: 1 }, epochs: 300 },
  { optimizer: { kind: 'sgd', learningRate: 0.3 }, epochs: 30 },
  { optimizer: { kind: 'momentum', learningRate: 0.05 }, epochs: 15 },
  { optimizer: { kind: 'rmsprop', learningRate: 0.01 }, epochs: 6 },
  { optimizer: { kind: 'adam', learningRate: 0.01 }, epochs: 6 },
];

for (const { optimizer, epochs } of runs) {
  test(`${optimizer.kind}: loss falls and accuracy rises`, (t) => {
    const lines: string[] = [];
    const result = trainSentiment({ config, train, epochs, batchSize: 16, optimizer, seed: 3, log: (l) => lines.push(l) });
    const first = result.history[0]!;
    const last = result.history[result.history.length - 1]!;
    t.is(result.history.length, epochs);
    t.is(lines.length, epochs, 'one progress line per epoch');
    t.regex(lines[0]!, /^epoch +1\/\d+ +loss \d\.\d{4} +accuracy \d\.\d{4}/);
    t.true(last.loss < first.loss / 2, `loss ${first.loss} → ${last.loss}`);
    t.true(last.accuracy > first.accuracy, `accuracy ${first.accuracy} → ${last.accuracy}`);
    t.true(last.accuracy >= 0.95, `final accuracy ${last.accuracy}`);
  });
}

test('validation data is evaluated and reported every epoch', (t) => {
  const held = encodeSentimentDataset(tokenizer, tinySentimentDataset({ count: 100, seed: 2 }), pre);
  const lines: string[] = [];
  const result = trainSentiment({
    config,
    train,
    validation: held,
    epochs: 4,
    batchSize: 16,
    optimizer: { kind: 'adam', learningRate: 0.01 },
    seed: 3,
    log: (l) => lines.push(l),
  });
  t.regex(lines[3]!, /val_loss \d\.\d{4} +val_accuracy \d\.\d{4}/);
  t.true(result.history[3]!.valAccuracy! > 0.9);
});

test('backward pass matches numerical gradients', (t) => {
  const small: SentimentModelConfig = { vocabSize: 12, embeddingDim: 4, hiddenUnits: 5, sequenceLength: 6 };
  const weights = initSentimentWeights(small, 9);
  // Weights of order 1 so that some ReLUs are off and the logits are not all near 0.
  const rng = new SeededRandom(5);
  for (const name of SENTIMENT_WEIGHT_NAMES) for (let i = 0; i < weights[name].length; i++) weights[name][i] = rng.uniform(-1, 1);
  const n = 5;
  const data = { ids: Int32Array.from({ length: n * 6 }, () => rng.int(10)), count: n };
  const labels = Uint8Array.from([1, 0, 1, 1, 0]);
  const rows = [0, 1, 2, 3, 4];
  const classWeight = [1, 2] as const;
  const grads = createSentimentGradients(small);
  backwardSentiment({ weights, config: small, data, labels, rows, grads, classWeight });
  const scratch = createSentimentGradients(small);
  const loss = (): number => backwardSentiment({ weights, config: small, data, labels, rows, grads: scratch, classWeight }).loss;

  const touched = new Set(Array.from(grads.embeddingRows.subarray(0, grads.embeddingRowCount)));
  t.deepEqual(touched, new Set(Array.from(data.ids)), 'the sparse gradient lists exactly the ids of the batch');
  let worst = 0;
  for (const name of SENTIMENT_WEIGHT_NAMES) {
    for (let i = 0; i < weights[name].length; i++) {
      const original = weights[name][i]!;
      weights[name][i] = original + 1e-2;
      const up = loss();
      const hi = weights[name][i]!;
      weights[name][i] = original - 1e-2;
      const down = loss();
      const lo = weights[name][i]!;
      weights[name][i] = original;
      const numeric = (up - down) / (hi - lo);
      const analytic = name === 'embedding' ? (touched.has(Math.floor(i / small.embeddingDim)) ? grads.embedding[i]! : 0) : grads[name][i]!;
      worst = Math.max(worst, Math.abs(numeric - analytic) / Math.max(1e-3, Math.abs(numeric) + Math.abs(analytic)));
    }
  }
  t.true(worst < 2e-3, `worst relative gradient error ${worst}`);
});

test('same seed gives identical weights; another seed does not', (t) => {
  const run = (seed: number): Float32Array => trainSentiment({ config, train, epochs: 2, batchSize: 16, optimizer: { kind: 'adam' }, seed }).weights.embedding;
  t.deepEqual(run(11), run(11));
  t.notDeepEqual(run(11), run(12));
});

test('sparse SGD update leaves rows that are not in the data untouched', (t) => {
  // Only ids 0..5 occur, so the other embedding rows keep their initial values.
  const ids = Int32Array.from({ length: 4 * 30 }, (_, i) => i % 6);
  const data = { ids, count: 4, labels: Uint8Array.from([0, 1, 0, 1]) };
  const initial = initSentimentWeights(config, 3).embedding;
  const trained = trainSentiment({ config, train: data, epochs: 3, batchSize: 2, optimizer: { kind: 'sgd', learningRate: 1 }, seed: 3 }).weights.embedding;
  const D = config.embeddingDim;
  t.deepEqual(trained.subarray(6 * D), initial.subarray(6 * D));
  t.notDeepEqual(trained.subarray(0, 6 * D), initial.subarray(0, 6 * D));
});

test("class weight 'balanced' is n / (2 · class count)", (t) => {
  const labels = Uint8Array.from({ length: 40 }, (_, i) => (i < 10 ? 1 : 0));
  const data = { ids: new Int32Array(40 * 30), count: 40, labels };
  const result = trainSentiment({ config, train: data, epochs: 1, batchSize: 8, optimizer: { kind: 'sgd' }, classWeight: 'balanced', seed: 1 });
  t.deepEqual(result.classWeight, [40 / 60, 40 / 20]);
});

test('class weights change what is learned', (t) => {
  const heavyPositive = trainSentiment({
    config,
    train,
    epochs: 2,
    batchSize: 16,
    optimizer: { kind: 'adam', learningRate: 0.01 },
    classWeight: [1, 20],
    seed: 3,
  });
  const plain = trainSentiment({ config, train, epochs: 2, batchSize: 16, optimizer: { kind: 'adam', learningRate: 0.01 }, seed: 3 });
  t.notDeepEqual(heavyPositive.weights.dense2Bias, plain.weights.dense2Bias);
  t.true(heavyPositive.weights.dense2Bias[0]! > plain.weights.dense2Bias[0]!, 'a heavier positive class pushes the output bias up');
});

test('rejects ids outside the embedding table', (t) => {
  const data = { ids: new Int32Array(30).fill(100), count: 1, labels: Uint8Array.from([1]) };
  t.throws(() => trainSentiment({ config, train: data, epochs: 1, batchSize: 1, optimizer: { kind: 'sgd' }, seed: 1 }), { instanceOf: RangeError });
});
