import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { KerasTokenizer, padSequences, padSequencesToInt64 } from '@maas/keras-tokenizer';
import type { EncodedTensor, ModelManifest__Output } from '@maas/protos';
import {
  checkLayoutFits,
  encodeBatch,
  IdRangeError,
  layoutFromManifest,
  ManifestError,
  TokenizerFileError,
  type EncodingLayout,
  type InputPlan,
  type TextTokenizer,
} from '../src/encoder.js';
import { huggingfaceTokenizer } from '../src/huggingface-encoder.js';
import { kerasTokenizer } from '../src/keras-encoder.js';
import { testManifest } from '../../../test/support/model-packages.js';

const fixture = (name: string) => readFileSync(path.join(__dirname, 'fixtures', name), 'utf8');
const kerasJson = fixture('keras-tokenizer.json');
const wordpiece = huggingfaceTokenizer(fixture('wordpiece-tokenizer.json'));
const bpe = huggingfaceTokenizer(fixture('bpe-tokenizer.json'));
const unigram = huggingfaceTokenizer(fixture('unigram-tokenizer.json'));

/** Elements of a tensor as numbers, read from its little-endian bytes. */
function elements(tensor: EncodedTensor): number[] {
  const bytes = tensor.raw_contents as Buffer;
  const out: number[] = [];
  if (tensor.datatype === 'INT64') for (let at = 0; at < bytes.length; at += 8) out.push(Number(bytes.readBigInt64LE(at)));
  else if (tensor.datatype === 'UINT16') for (let at = 0; at < bytes.length; at += 2) out.push(bytes.readUInt16LE(at));
  else if (tensor.datatype === 'UINT8') out.push(...bytes);
  else for (let at = 0; at < bytes.length; at += 4) out.push(bytes.readInt32LE(at));
  return out;
}

/** Rows of a [n, width] tensor. */
function rows(tensor: EncodedTensor): number[][] {
  const width = Number(tensor.shape![1]);
  const flat = elements(tensor);
  const out: number[][] = [];
  for (let at = 0; at < flat.length; at += width) out.push(flat.slice(at, at + width));
  return out;
}

const ids64: InputPlan = { name: 'input_ids', datatype: 'INT64', role: 'input_ids' };
const mask64: InputPlan = { name: 'attention_mask', datatype: 'INT64', role: 'attention_mask' };

function layout(overrides: Partial<EncodingLayout>): EncodingLayout {
  return { maxLength: 8, paddingSide: 'post', truncationSide: 'post', padId: 0, inputs: [ids64, mask64], ...overrides };
}

const kerasTexts = ['The cat sat on the mat.', 'the movie was very good, the cat was not bad and the dog sat', '', 'Unknown words only', 'A DOG!'];

test('Keras pre/pre into INT64 bytes equals padSequencesToInt64 of textsToSequences', (t) => {
  const reference = KerasTokenizer.fromJson(kerasJson);
  const expected = padSequencesToInt64(reference.textsToSequences(kerasTexts), { maxlen: 6, padding: 'pre', truncating: 'pre', value: 0 });
  const batch = encodeBatch({
    tokenizer: kerasTokenizer(kerasJson),
    layout: layout({ maxLength: 6, paddingSide: 'pre', truncationSide: 'pre', inputs: [ids64] }),
    texts: kerasTexts,
  });
  t.is(batch.tensors.length, 1);
  const tensor = batch.tensors[0]!;
  t.deepEqual(tensor.shape, [kerasTexts.length, 6]);
  t.is(tensor.datatype, 'INT64');
  t.true(Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength).equals(tensor.raw_contents as Buffer));
  // The long text keeps its last six words (truncating 'pre'); the empty and all-unknown texts are all padding.
  t.deepEqual(rows(tensor), [
    [1, 3, 4, 9, 1, 10],
    [15, 14, 11, 1, 5, 4],
    [0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 2, 5],
  ]);
  t.deepEqual(batch.tokenCounts, [6, 14, 0, 0, 2]);
  t.deepEqual(batch.truncated, [false, true, false, false, false]);
});

test('Keras into an INT32 input writes 4-byte elements equal to padSequences', (t) => {
  const reference = KerasTokenizer.fromJson(kerasJson);
  const batch = encodeBatch({
    tokenizer: kerasTokenizer(kerasJson),
    layout: layout({ maxLength: 5, paddingSide: 'pre', truncationSide: 'pre', inputs: [{ name: 'ids', datatype: 'INT32', role: 'input_ids' }] }),
    texts: kerasTexts,
  });
  const tensor = batch.tensors[0]!;
  t.is(tensor.datatype, 'INT32');
  t.is((tensor.raw_contents as Buffer).length, kerasTexts.length * 5 * 4);
  t.deepEqual(rows(tensor), padSequences(reference.textsToSequences(kerasTexts), { maxlen: 5, padding: 'pre', truncating: 'pre' }));
});

test('WordPiece: [CLS] text [SEP], padding post with attention mask, truncation keeps [SEP]', (t) => {
  const texts = ['The cat sat on the mat.', 'Unbelievable! The dog was playing', ''];
  const batch = encodeBatch({ tokenizer: wordpiece, layout: layout({}), texts });
  const [ids, mask] = batch.tensors.map(rows);
  t.deepEqual(ids, [
    // 9 tokens: the content loses its last token ('.'), [SEP] stays.
    [2, 5, 6, 7, 8, 5, 9, 3],
    // un ##believ ##able ! the dog | was play ##ing cut.
    [2, 18, 19, 20, 17, 5, 10, 3],
    [2, 3, 0, 0, 0, 0, 0, 0],
  ]);
  t.deepEqual(mask, [
    [1, 1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1, 1, 1],
    [1, 1, 0, 0, 0, 0, 0, 0],
  ]);
  t.deepEqual(batch.tokenCounts, [9, 11, 2]);
  t.deepEqual(batch.truncated, [true, true, false]);
});

test('WordPiece: truncation pre keeps [CLS] and the last content tokens; padding pre puts the mask on the right', (t) => {
  const batch = encodeBatch({
    tokenizer: wordpiece,
    layout: layout({ maxLength: 6, paddingSide: 'pre', truncationSide: 'pre' }),
    texts: ['Unbelievable! The dog was playing', 'good movie'],
  });
  const [ids, mask] = batch.tensors.map(rows);
  t.deepEqual(ids, [
    [2, 10, 24, 11, 12, 3],
    [0, 0, 2, 21, 23, 3],
  ]);
  t.deepEqual(mask, [
    [1, 1, 1, 1, 1, 1],
    [0, 0, 1, 1, 1, 1],
  ]);
  t.deepEqual(batch.truncated, [true, false]);
});

test('BPE (RoBERTa specials): <s> text </s>, pad_id written into padding, mask and truncation', (t) => {
  const batch = encodeBatch({
    tokenizer: bpe,
    layout: layout({ maxLength: 6, padId: 1 }),
    texts: ['lower newest', 'lower newest widest low'],
  });
  const [ids, mask] = batch.tensors.map(rows);
  // low er Ġnew est | Ġwidest Ġ low cut (no "Ġ low" merge), </s> kept.
  t.deepEqual(ids, [
    [0, 35, 36, 47, 42, 2],
    [0, 35, 36, 47, 42, 2],
  ]);
  t.deepEqual(mask, [
    [1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1],
  ]);
  t.deepEqual(batch.tokenCounts, [6, 9]);
  t.deepEqual(batch.truncated, [false, true]);

  const short = encodeBatch({ tokenizer: bpe, layout: layout({ maxLength: 6, padId: 1 }), texts: ['low'] });
  t.deepEqual(short.tensors.map(rows), [[[0, 35, 2, 1, 1, 1]], [[1, 1, 1, 0, 0, 0]]]);
});

test('Unigram (T5-style, suffix </s> only): truncation pre keeps the last content tokens and </s>', (t) => {
  const batch = encodeBatch({
    tokenizer: unigram,
    layout: layout({ maxLength: 4, paddingSide: 'post', truncationSide: 'pre' }),
    texts: ['The cat sat on the mat.', 'good movies', ''],
  });
  const [ids, mask] = batch.tensors.map(rows);
  // ▁the ▁cat ▁sat ▁on ▁the ▁mat . </s> → keeps ▁the ▁mat . </s>; ▁good ▁movie s </s> fits exactly.
  t.deepEqual(ids, [
    [4, 8, 22, 1],
    [9, 10, 11, 1],
    [1, 0, 0, 0],
  ]);
  t.deepEqual(mask, [
    [1, 1, 1, 1],
    [1, 1, 1, 1],
    [1, 0, 0, 0],
  ]);
  t.deepEqual(batch.tokenCounts, [8, 4, 1]);
  t.deepEqual(batch.truncated, [true, false, false]);
});

test('tensors follow manifest order and datatypes; token_type_ids are zeros; INT64 and INT32 mix in one batch', (t) => {
  const inputs: InputPlan[] = [
    { name: 'mask', datatype: 'INT32', role: 'attention_mask' },
    { name: 'ids', datatype: 'INT64', role: 'input_ids' },
    { name: 'types', datatype: 'INT32', role: 'token_type_ids' },
  ];
  // Three rows of width 3: the INT32 mask is 36 bytes, so the INT64 ids after it must be realigned.
  const batch = encodeBatch({ tokenizer: wordpiece, layout: layout({ maxLength: 3, inputs, padId: 7 }), texts: ['cat', 'the cat', ''] });
  t.deepEqual(
    batch.tensors.map((tensor) => [tensor.name, tensor.datatype]),
    [
      ['mask', 'INT32'],
      ['ids', 'INT64'],
      ['types', 'INT32'],
    ],
  );
  t.deepEqual(
    batch.tensors.map((tensor) => (tensor.raw_contents as Buffer).length),
    [36, 72, 36],
  );
  const [mask, ids, types] = batch.tensors.map(rows);
  t.deepEqual(ids, [
    [2, 6, 3],
    [2, 5, 3],
    [2, 3, 7],
  ]);
  t.deepEqual(mask, [
    [1, 1, 1],
    [1, 1, 1],
    [1, 1, 0],
  ]);
  t.deepEqual(types, [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ]);
});

test('an INT64 pad_id beyond 32 bits is written whole', (t) => {
  const padId = 2 ** 40 + 5;
  const batch = encodeBatch({ tokenizer: wordpiece, layout: layout({ maxLength: 4, padId, inputs: [ids64] }), texts: ['cat'] });
  t.deepEqual(rows(batch.tensors[0]!), [[2, 6, 3, padId]]);
});

/** A manifest with two inputs of 8 for a WordPiece tokenizer, post/post. */
const manifest = (overrides: Partial<ModelManifest__Output> = {}): ModelManifest__Output =>
  testManifest({
    inputs: [
      { name: 'input_ids', datatype: 'INT64', shape: [-1, 8], role: 'input_ids' },
      { name: 'attention_mask', datatype: 'INT32', shape: [-1, 8], role: 'attention_mask' },
    ],
    tokenizer: { kind: 'huggingface', file: 'tokenizer.json', max_length: 8, padding_side: 'post', truncation_side: 'post', pad_id: 0 },
    ...overrides,
  });

test('layoutFromManifest reads sides, pad id and inputs in order', (t) => {
  t.deepEqual(layoutFromManifest(manifest()), {
    maxLength: 8,
    paddingSide: 'post',
    truncationSide: 'post',
    padId: 0,
    inputs: [
      { name: 'input_ids', datatype: 'INT64', role: 'input_ids' },
      { name: 'attention_mask', datatype: 'INT32', role: 'attention_mask' },
    ],
  });
});

test('layoutFromManifest rejects inputs the tokenizer cannot fill, naming each', (t) => {
  const error = t.throws(
    () =>
      layoutFromManifest(
        manifest({
          inputs: [
            { name: 'x', datatype: 'FP32', shape: [-1, 8], role: 'input_ids' },
            { name: 'y', datatype: 'INT64', shape: [-1, 16], role: 'pixels' },
          ],
        }),
      ),
    { instanceOf: ManifestError },
  );
  t.regex(error!.message, /^manifest of test-model version 1 cannot be encoded for: /);
  t.regex(error!.message, /inputs\[0\]\.datatype: token inputs must be INT32 or INT64 \(got FP32\)/);
  t.regex(error!.message, /inputs\[1\]\.role: "pixels" must be one of input_ids, attention_mask, token_type_ids/);
  t.regex(error!.message, /inputs\[1\]\.shape: sequence dimension 16 differs from tokenizer\.max_length 8/);
});

test('layoutFromManifest also needs rows of rank 2 and an INT32 input_ids that holds pad_id', (t) => {
  const error = t.throws(
    () =>
      layoutFromManifest(
        manifest({
          inputs: [{ name: 'input_ids', datatype: 'INT32', shape: [-1, 8, 1], role: 'input_ids' }],
          tokenizer: { kind: 'huggingface', file: 'tokenizer.json', max_length: 8, padding_side: 'post', truncation_side: 'post', pad_id: 2 ** 31 },
        }),
      ),
    { instanceOf: ManifestError },
  );
  t.regex(error!.message, /inputs\[0\]\.shape: the tokenizer writes \[-1, 8\] \(got \[-1, 8, 1\]\)/);
  t.regex(error!.message, /inputs\[0\]\.datatype: INT32 cannot hold tokenizer\.pad_id 2147483648/);
  t.throws(() => layoutFromManifest(manifest({ tokenizer: null })), { instanceOf: ManifestError, message: 'manifest has no tokenizer section' });
});

test('a max_length with no room besides the special tokens fails the load', (t) => {
  t.throws(() => checkLayoutFits(layout({ maxLength: 2 }), wordpiece), { instanceOf: ManifestError, message: /leaves no room/ });
  t.notThrows(() => checkLayoutFits(layout({ maxLength: 3 }), wordpiece));
});

test('unusable tokenizer files fail with TokenizerFileError', (t) => {
  t.throws(() => huggingfaceTokenizer('{not json'), { instanceOf: TokenizerFileError, message: /not valid JSON/ });
  t.throws(() => huggingfaceTokenizer('{"version":"1.0"}'), { instanceOf: TokenizerFileError, message: /no "model"/ });
  t.throws(() => kerasTokenizer('{"class_name":"Tokenizer","config":{"bogus":1}}'), { instanceOf: TokenizerFileError });
});

test('narrow integers: each tensor in the narrowest datatype holding its values, with the same values as the manifest datatypes', (t) => {
  const texts = ['The cat sat on the mat.', 'Unbelievable! The dog was playing', '', 'good movie'];
  const inputs: InputPlan[] = [ids64, mask64, { name: 'types', datatype: 'INT32', role: 'token_type_ids' }];
  for (const tokenizer of [wordpiece, bpe, unigram, kerasTokenizer(kerasJson)]) {
    const wideLayout = layout({ maxLength: 7, padId: 1, inputs });
    const wide = encodeBatch({ tokenizer, layout: wideLayout, texts });
    const narrow = encodeBatch({ tokenizer, layout: wideLayout, texts, narrowIntegers: true });
    // The fixtures' ids all lie below 256: one byte each.
    t.deepEqual(
      narrow.tensors.map((tensor) => tensor.datatype),
      ['UINT8', 'UINT8', 'UINT8'],
    );
    t.deepEqual(narrow.tensors.map(rows), wide.tensors.map(rows));
    t.deepEqual(
      narrow.tensors.map((tensor) => tensor.shape),
      wide.tensors.map((tensor) => tensor.shape),
    );
    t.deepEqual(narrow.tokenCounts, wide.tokenCounts);
    t.deepEqual(narrow.truncated, wide.truncated);
  }
});

/** A tokenizer that maps each word to the number it spells: any id a test needs. */
const numbers: TextTokenizer = {
  kind: 'keras',
  prefixIds: [],
  suffixIds: [],
  contentIds: (text) => (text ? text.split(' ').map(Number) : []),
};

test('narrow integers: UINT16 past 255, INT32 past 65535, and the manifest datatype past INT32', (t) => {
  const narrowOf = (texts: string[], padId = 0) =>
    encodeBatch({ tokenizer: numbers, layout: layout({ maxLength: 3, padId, inputs: [ids64] }), texts, narrowIntegers: true }).tensors[0]!;
  t.is(narrowOf(['1 2', '256']).datatype, 'UINT16');
  t.deepEqual(rows(narrowOf(['1 2', '65535'])), [
    [1, 2, 0],
    [65535, 0, 0],
  ]);
  const int32 = narrowOf(['65536 3']);
  t.is(int32.datatype, 'INT32');
  t.deepEqual(rows(int32), [[65536, 3, 0]]);
  // A negative pad id needs a signed datatype.
  t.is(narrowOf(['1'], -1).datatype, 'INT32');
  // Beyond INT32 the manifest's INT64 says it exactly.
  const wide = narrowOf(['1', String(2 ** 40)]);
  t.is(wide.datatype, 'INT64');
  t.deepEqual(rows(wide), [
    [1, 0, 0],
    [2 ** 40, 0, 0],
  ]);
  // Batches after a wide one reuse the scratch buffer, zeroed: no id of an earlier batch shows through.
  t.deepEqual(
    rows(narrowOf(['9 9 9', '9 9 9', '9 9 9', '9 9 9'])),
    Array.from({ length: 4 }, () => [9, 9, 9]),
  );
  t.deepEqual(rows(narrowOf(['', '5'])), [
    [0, 0, 0],
    [5, 0, 0],
  ]);
});

test('an id an INT32 input cannot hold is refused instead of wrapping into another token', (t) => {
  const error = t.throws(() =>
    encodeBatch({
      tokenizer: numbers,
      layout: layout({ maxLength: 3, inputs: [{ name: 'ids', datatype: 'INT32', role: 'input_ids' }] }),
      texts: [String(2 ** 31)],
    }),
  );
  t.true(error instanceof IdRangeError);
  t.regex(error!.message, /token id 2147483648 does not fit the INT32 input ids/);
});
