import test from 'ava';
import * as ort from 'onnxruntime-node';
import { decodeOnnxModel, OnnxGraphBuilder } from '../src/onnx/graph-builder.js';
import { OnnxDataType } from '../src/onnx/onnx-schema.js';
import { SeededRandom } from '../src/random.js';
import { DEFAULT_SENTIMENT_PREPROCESSING as pre, encodeSentimentDataset, fitSentimentTokenizer } from '../src/train/sentiment-data.js';
import { DEFAULT_SENTIMENT_CONFIG as config, predictSentiment } from '../src/train/sentiment-model.js';
import { exportSentimentFp32 } from '../src/train/sentiment-onnx.js';
import { trainSentiment } from '../src/train/trainer.js';
import { tinySentimentDataset } from './fixtures/tiny-sentiment.js';

// The shipped shape (vocabulary 10000, 100 positions), trained briefly so the weights are not the
// initial ones.
const texts = tinySentimentDataset({ count: 300, seed: 4 });
const train = encodeSentimentDataset(fitSentimentTokenizer(texts, pre), texts, pre);
const { weights } = trainSentiment({ config, train, epochs: 10, batchSize: 16, optimizer: { kind: 'adam', learningRate: 0.01 }, seed: 8 });
const bytes = exportSentimentFp32(weights, { config, metadata: { 'maas.name': 'sentiment' } });

function randomIds(count: number, seed: number): Int32Array {
  // Mixed rows: all padding, short texts (mostly padding), and full rows over the whole vocabulary.
  const rng = new SeededRandom(seed);
  const ids = new Int32Array(count * config.sequenceLength);
  for (let r = 0; r < count; r++) {
    const filled = r % 3 === 0 ? 0 : r % 3 === 1 ? 1 + rng.int(20) : config.sequenceLength;
    for (let k = 0; k < filled; k++) ids[(r + 1) * config.sequenceLength - 1 - k] = rng.int(config.vocabSize);
  }
  return ids;
}

async function runOnnx(session: ort.InferenceSession, ids: Int32Array, count: number): Promise<ort.Tensor> {
  const input = new ort.Tensor(
    'int64',
    BigInt64Array.from(ids, (v) => BigInt(v)),
    [count, config.sequenceLength],
  );
  return (await session.run({ input_ids: input })).probability!;
}

test('fp32 ONNX equals the TypeScript forward pass within 1e-5, for any batch size', async (t) => {
  const session = await ort.InferenceSession.create(bytes);
  t.deepEqual(session.inputNames, ['input_ids']);
  t.deepEqual(session.outputNames, ['probability']);
  for (const count of [1, 7, 64]) {
    const ids = randomIds(count, count);
    const out = await runOnnx(session, ids, count);
    t.deepEqual(out.dims, [count, 1]);
    t.is(out.type, 'float32');
    const expected = predictSentiment(weights, config, { ids, count });
    let worst = 0;
    for (let i = 0; i < count; i++) worst = Math.max(worst, Math.abs((out.data as Float32Array)[i]! - expected[i]!));
    t.true(worst <= 1e-5, `batch ${count}: max difference ${worst}`);
  }
  // Real texts too: the trained model separates them, so the outputs are not all near 0.5.
  const out = await runOnnx(session, train.ids.subarray(0, 20 * 100), 20);
  const expected = predictSentiment(weights, config, { ids: train.ids, count: 20 });
  (out.data as Float32Array).forEach((p, i) => t.true(Math.abs(p - expected[i]!) <= 1e-5));
  t.true(Math.max(...expected) > 0.7 && Math.min(...expected) < 0.3);
  await session.release();
});

test('the file is ONNX IR 8 / opset 17 with the documented graph', (t) => {
  const m = decodeOnnxModel(bytes);
  t.is(m.irVersion, 8);
  t.deepEqual(m.opsets, [{ domain: '', version: 17 }]);
  t.deepEqual(m.inputs, ['input_ids']);
  t.deepEqual(m.outputs, ['probability']);
  t.deepEqual(
    m.nodes.map((n) => n.opType),
    ['Gather', 'ReduceMean', 'MatMul', 'Add', 'Relu', 'MatMul', 'Add', 'Sigmoid'],
  );
  const embedding = m.initializers.find((i) => i.name === 'embedding')!;
  t.deepEqual(embedding.dims, [10000, 16]);
  t.is(embedding.dataType, OnnxDataType.FLOAT);
  t.is(embedding.byteLength, 10000 * 16 * 4);
  t.is(m.metadata['maas.name'], 'sentiment');
});

test('export is deterministic', (t) => {
  t.deepEqual(exportSentimentFp32(weights, { config, metadata: { 'maas.name': 'sentiment' } }), bytes);
});

test('graph builder: a hand-built graph runs in onnxruntime', async (t) => {
  const g = new OnnxGraphBuilder();
  const x = g.input('x', OnnxDataType.FLOAT, ['batch', 3]);
  const w = g.float('w', [1, 2, 3, 4, 5, 6], [3, 2]);
  const y = g.node({ op: 'MatMul', inputs: [x, w] });
  const s = g.node({ op: 'Softmax', inputs: [y], outputs: ['y'], attributes: { axis: { int: -1 } } });
  g.output(s, OnnxDataType.FLOAT, ['batch', 2]);
  const session = await ort.InferenceSession.create(g.toBytes({ graphName: 'demo' }));
  const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 0, 0, 0, 0, 0]), [2, 3]) });
  const data = out.y!.data as Float32Array;
  t.true(Math.abs(data[0]! - 1 / (1 + Math.E)) < 1e-6, `softmax([1,2])[0] = ${data[0]}`);
  t.true(Math.abs(data[2]! - 0.5) < 1e-6);
  await session.release();
});

test('graph builder refuses duplicate names, unknown inputs and wrong sizes', (t) => {
  const g = new OnnxGraphBuilder();
  g.float('w', [1, 2]);
  t.throws(() => g.float('w', [3]), { message: /used twice/ });
  t.throws(() => g.node({ op: 'Relu', inputs: ['nothing'] }), { message: /unknown value nothing/ });
  t.throws(() => g.float('v', [1, 2, 3], [2, 2]), { message: /hold 4 values/ });
  t.throws(() => g.output('missing', OnnxDataType.FLOAT, [1]), { message: /produced by nothing/ });
});
