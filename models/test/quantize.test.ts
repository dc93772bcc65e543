import test from 'ava';
import * as ort from 'onnxruntime-node';
import { decodeOnnxModel } from '../src/onnx/graph-builder.js';
import { OnnxDataType } from '../src/onnx/onnx-schema.js';
import { dequantizeInt8, quantizeInt8 } from '../src/quantize/int8.js';
import { SeededRandom } from '../src/random.js';
import { DEFAULT_SENTIMENT_PREPROCESSING as pre, encodeSentimentDataset, fitSentimentTokenizer } from '../src/train/sentiment-data.js';
import { DEFAULT_SENTIMENT_CONFIG as config, predictSentiment } from '../src/train/sentiment-model.js';
import { dequantizeSentimentWeights, exportSentimentFp32, exportSentimentInt8, quantizeSentimentWeights } from '../src/train/sentiment-onnx.js';
import { trainSentiment } from '../src/train/trainer.js';
import { tinySentimentDataset } from './fixtures/tiny-sentiment.js';

test('per-axis int8: one scale per channel, error at most half a step', (t) => {
  const rng = new SeededRandom(1);
  // 3 rows × 4 columns; column 2 is all zero, column 3 is large.
  const data = Float32Array.from({ length: 12 }, (_, i) => (i % 4 === 2 ? 0 : rng.uniform(-1, 1) * (i % 4 === 3 ? 50 : 1)));
  const q = quantizeInt8(data, [3, 4], 1);
  t.is(q.scales.length, 4);
  t.is(q.scales[2], 1, 'an all-zero channel gets scale 1');
  const back = dequantizeInt8(q);
  for (let i = 0; i < data.length; i++) {
    const scale = q.scales[i % 4]!;
    t.true(q.values[i]! >= -127 && q.values[i]! <= 127);
    t.true(Math.abs(back[i]! - data[i]!) <= scale / 2 + 1e-7, `element ${i}`);
  }
  // The largest magnitude of each channel maps to ±127.
  for (const c of [0, 1, 3]) {
    const column = [0, 1, 2].map((r) => q.values[r * 4 + c]!);
    t.is(Math.max(...column.map(Math.abs)), 127);
  }
});

test('per-tensor and axis-0 quantisation', (t) => {
  const data = Float32Array.from([0.5, -1, 2, -4]);
  const perTensor = quantizeInt8(data, [2, 2], null);
  t.deepEqual(Array.from(perTensor.scales), [Math.fround(4 / 127)]);
  t.deepEqual(Array.from(perTensor.values), [16, -32, 64, -127]);
  const rows = quantizeInt8(data, [2, 2], 0);
  t.deepEqual(Array.from(rows.scales), [Math.fround(1 / 127), Math.fround(4 / 127)]);
  t.deepEqual(Array.from(rows.values), [64, -127, 64, -127]);
  t.throws(() => quantizeInt8(data, [2, 2], 2), { instanceOf: RangeError });
});

const texts = tinySentimentDataset({ count: 300, seed: 4 });
const train = encodeSentimentDataset(fitSentimentTokenizer(texts, pre), texts, pre);
const { weights } = trainSentiment({ config, train, epochs: 10, batchSize: 16, optimizer: { kind: 'adam', learningRate: 0.01 }, seed: 8 });
const quantized = quantizeSentimentWeights(weights, config);
const int8Model = exportSentimentInt8(quantized, { config });
const fp32Model = exportSentimentFp32(weights, { config });

test('the int8 file stores int8 weights behind DequantizeLinear and is at most 35% of fp32', (t) => {
  const m = decodeOnnxModel(int8Model);
  t.deepEqual(m.opsets, [{ domain: '', version: 17 }]);
  t.deepEqual(
    m.nodes.map((n) => n.opType),
    ['Gather', 'DequantizeLinear', 'ReduceMean', 'DequantizeLinear', 'MatMul', 'Add', 'Relu', 'MatMul', 'Add', 'Sigmoid'],
  );
  const table = m.initializers.find((i) => i.name === 'embedding_quantized')!;
  t.is(table.dataType, OnnxDataType.INT8);
  t.is(table.byteLength, 10000 * 16);
  t.true(int8Model.length <= 0.35 * fp32Model.length, `int8 ${int8Model.length} B vs fp32 ${fp32Model.length} B`);
});

test('quantising relative to the padding row makes that row exact', (t) => {
  const padded = dequantizeInt8(quantized.embedding).subarray(0, 16);
  t.deepEqual(Array.from(padded), new Array(16).fill(0));
  // An all-padding input therefore gives the fp32 model's score up to float rounding.
  const ids = new Int32Array(100);
  const fp32 = predictSentiment(weights, config, { ids, count: 1 })[0]!;
  const int8 = predictSentiment(dequantizeSentimentWeights(quantized), config, { ids, count: 1 })[0]!;
  t.true(Math.abs(fp32 - int8) < 5e-3, `fp32 ${fp32} int8 ${int8}`);
});

test('onnxruntime runs the int8 file exactly as the dequantised TypeScript model', async (t) => {
  const session = await ort.InferenceSession.create(int8Model);
  const count = 50;
  const ids = train.ids.subarray(0, count * 100);
  const out = await session.run({
    input_ids: new ort.Tensor(
      'int64',
      BigInt64Array.from(ids, (v) => BigInt(v)),
      [count, 100],
    ),
  });
  const expected = predictSentiment(dequantizeSentimentWeights(quantized), config, { ids, count });
  const fp32 = predictSentiment(weights, config, { ids, count });
  let worst = 0;
  let drift = 0;
  for (let i = 0; i < count; i++) {
    worst = Math.max(worst, Math.abs((out.probability!.data as Float32Array)[i]! - expected[i]!));
    drift = Math.max(drift, Math.abs(expected[i]! - fp32[i]!));
  }
  t.true(worst <= 1e-5, `onnxruntime vs TypeScript: ${worst}`);
  t.true(drift < 0.02, `int8 vs fp32 drift ${drift}`);
  await session.release();
});
