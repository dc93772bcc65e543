import test from 'ava';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { createHash } from 'node:crypto';
import { DEFAULT_ENCODER_CONFIG, encoderParameterCount, exportEncoderOnnx, type EncoderConfig } from '../src/encoder/encoder-onnx.js';
import { buildWordPieceVocab, wordPieceTokenizerJson } from '../src/encoder/wordpiece-tokenizer.js';
import { decodeOnnxModel } from '../src/onnx/graph-builder.js';

// The shipped shape (4 layers, hidden 384, 6 heads, FFN 1536, 128 positions) over a small vocabulary.
const corpus = ['the film was a delight', 'the soup was cold and the service slow', 'I would watch it again', 'never again'];
const vocab = buildWordPieceVocab({ texts: corpus, maxVocabSize: 500, minWordCount: 1 });
const config: EncoderConfig = { ...DEFAULT_ENCODER_CONFIG, vocabSize: vocab.length };
const bytes = exportEncoderOnnx(config);
const S = config.maxSequenceLength;

let session: ort.InferenceSession;
test.before(async () => {
  session = await ort.InferenceSession.create(bytes);
});
test.after.always(async () => {
  await session?.release();
});

/** Rows of token ids, padded after the text with 0 and a 1/0 attention mask. */
function batch(rows: readonly (readonly number[])[]): { ids: BigInt64Array; mask: BigInt64Array } {
  const ids = new BigInt64Array(rows.length * S);
  const mask = new BigInt64Array(rows.length * S);
  rows.forEach((row, r) => {
    row.forEach((id, i) => {
      ids[r * S + i] = BigInt(id);
      mask[r * S + i] = 1n;
    });
  });
  return { ids, mask };
}

async function logits(input: { ids: BigInt64Array; mask: BigInt64Array }): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const n = input.ids.length / S;
  const out = await session.run({
    input_ids: new ort.Tensor('int64', input.ids, [n, S]),
    attention_mask: new ort.Tensor('int64', input.mask, [n, S]),
  });
  return { data: out.logits!.data as Float32Array, dims: out.logits!.dims };
}

const rows = [
  [2, 7, 8, 9, 3],
  Array.from({ length: S }, (_, i) => (i === 0 ? 2 : i === S - 1 ? 3 : 5 + (i % (vocab.length - 5)))),
  [2, 11, 12, 13, 14, 15, 16, 17, 3],
];

test('the graph has the BERT shape and names', (t) => {
  t.deepEqual(session.inputNames, ['input_ids', 'attention_mask']);
  t.deepEqual(session.outputNames, ['logits']);
  const m = decodeOnnxModel(bytes);
  t.deepEqual(m.opsets, [{ domain: '', version: 17 }]);
  const count = (op: string): number => m.nodes.filter((n) => n.opType === op).length;
  t.is(count('LayerNormalization'), 1 + 2 * config.layers);
  t.is(count('Softmax'), config.layers);
  t.is(count('Erf'), config.layers);
  t.is(count('MatMul'), config.layers * 8 + 1, 'q, k, v, scores, context, output, ffn up, ffn down per layer, plus the classifier');
  const parameters = m.initializers.filter((i) => i.dataType === 1).reduce((sum, i) => sum + i.byteLength / 4, 0);
  // Float initializers are the weights plus five scalar constants.
  t.is(parameters, encoderParameterCount(config) + 5);
});

test('a padded batch gives finite, unsaturated [n, 2] logits', async (t) => {
  const out = await logits(batch(rows));
  t.deepEqual(out.dims, [3, 2]);
  for (const v of out.data) {
    t.true(Number.isFinite(v));
    t.true(Math.abs(v) < 5, `logit ${v}`);
  }
  // Different texts, different outputs.
  t.not(out.data[0], out.data[4]);
});

test('padding is masked: ids under a zero mask do not change the result', async (t) => {
  const clean = batch(rows);
  const noisy = batch(rows);
  for (let i = 0; i < noisy.ids.length; i++) if (noisy.mask[i] === 0n) noisy.ids[i] = BigInt(5 + (i % 50));
  const a = await logits(clean);
  const b = await logits(noisy);
  a.data.forEach((v, i) => t.true(Math.abs(v - b.data[i]!) < 1e-5, `logit ${i}: ${v} vs ${b.data[i]}`));
  // While a change under the mask does change it.
  const changed = batch(rows);
  changed.ids[2] = 20n;
  const c = await logits(changed);
  t.true(Math.abs(c.data[0]! - a.data[0]!) > 1e-6);
});

test('each row is computed independently of the others in its batch', async (t) => {
  const together = await logits(batch(rows));
  for (let r = 0; r < rows.length; r++) {
    const alone = await logits(batch([rows[r]!]));
    for (let k = 0; k < 2; k++) t.true(Math.abs(alone.data[k]! - together.data[r * 2 + k]!) < 1e-4);
  }
});

test('the HF tokenizer output feeds the model directly', async (t) => {
  const tokenizer = new Tokenizer(wordPieceTokenizerJson(vocab), {});
  const encoded = ['The film was a delight!', 'Never again.'].map((text) => tokenizer.encode(text).ids);
  const out = await logits(batch(encoded));
  t.deepEqual(out.dims, [2, 2]);
  t.true([...out.data].every(Number.isFinite));
});

test('weights are deterministic for a seed', (t) => {
  const digest = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
  t.is(digest(exportEncoderOnnx(config)), digest(bytes));
  t.not(digest(exportEncoderOnnx({ ...config, seed: config.seed + 1 })), digest(bytes));
});
