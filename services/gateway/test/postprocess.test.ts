import type { ModelInferResponse__Output } from '@maas/protos';
import { Status } from '@maas/protos';
import test from 'ava';
import { labelRows, readFirstOutput, type Fp32Matrix } from '../src/postprocess.js';

const binary = { labels: ['negative', 'positive'], model: 'm', version: '1' };
const matrix = (rows: number[][]): Fp32Matrix => ({ values: Float32Array.from(rows.flat()), rows: rows.length, columns: rows[0]!.length });

function response(options: { raw?: Buffer; fp32?: number[]; shape: number[]; datatype?: string }): ModelInferResponse__Output {
  return {
    model_name: 'm',
    model_version: '1',
    id: '',
    parameters: {},
    outputs: [
      {
        name: 'out',
        datatype: options.datatype ?? 'FP32',
        shape: options.shape,
        parameters: {},
        contents: options.fp32 ? ({ fp32_contents: options.fp32 } as never) : null,
      },
    ],
    raw_output_contents: options.raw ? [options.raw] : [],
  };
}

test('binary, activation none: p ≥ 0.5 is labels[1] with p, else labels[0] with 1 − p', (t) => {
  const results = labelRows(matrix([[0.8], [0.2], [0.5]]), { ...binary, activation: 'none' });
  t.deepEqual(
    results.map((r) => r.label),
    ['positive', 'negative', 'positive'],
  );
  t.true(Math.abs(results[0]!.score - 0.8) < 1e-6);
  t.true(Math.abs(results[1]!.score - 0.8) < 1e-6);
  t.is(results[2]!.score, 0.5);
});

test('binary, activation sigmoid applies the logistic function first', (t) => {
  const results = labelRows(matrix([[2], [-3], [0]]), { ...binary, activation: 'sigmoid' });
  t.deepEqual(
    results.map((r) => r.label),
    ['positive', 'negative', 'positive'],
  );
  t.true(Math.abs(results[0]!.score - 1 / (1 + Math.exp(-2))) < 1e-6);
  t.true(Math.abs(results[1]!.score - (1 - 1 / (1 + Math.exp(3)))) < 1e-6);
  t.is(results[2]!.score, 0.5);
});

test('an empty activation means none', (t) => {
  t.is(labelRows(matrix([[0.9]]), { ...binary, activation: '' })[0]!.label, 'positive');
});

test('multi-class softmax: argmax with its probability, stable for large logits', (t) => {
  const labels = ['a', 'b', 'c'];
  const [first, second] = labelRows(
    matrix([
      [1, 3, 2],
      [1000, 0, 999],
    ]),
    { labels, activation: 'softmax', model: 'm', version: '1' },
  );
  const expected = Math.exp(3) / (Math.exp(1) + Math.exp(3) + Math.exp(2));
  t.is(first!.label, 'b');
  t.true(Math.abs(first!.score - expected) < 1e-6);
  t.is(second!.label, 'a');
  t.true(Number.isFinite(second!.score) && Math.abs(second!.score - 1 / (1 + Math.exp(-1))) < 1e-6);
});

test('multi-class none and sigmoid: argmax of the (activated) values', (t) => {
  t.deepEqual(labelRows(matrix([[0.1, 0.7, 0.2]]), { labels: ['x', 'y', 'z'], activation: 'none', model: 'm', version: '1' }), [
    { label: 'y', score: Float32Array.from([0.7])[0]! },
  ]);
  const [result] = labelRows(matrix([[-1, 0.5]]), { labels: ['neg', 'pos'], activation: 'sigmoid', model: 'm', version: '1' });
  t.is(result!.label, 'pos');
  t.true(Math.abs(result!.score - 1 / (1 + Math.exp(-0.5))) < 1e-6);
});

test('manifests that cannot be read are refused with FAILED_PRECONDITION', (t) => {
  const codeOf = (fn: () => unknown) => (t.throws(fn) as { code?: number }).code;
  t.is(
    codeOf(() => labelRows(matrix([[0.5]]), { ...binary, activation: 'softmax' })),
    Status.FAILED_PRECONDITION,
  );
  t.is(
    codeOf(() => labelRows(matrix([[0.5]]), { ...binary, labels: ['only'], activation: 'none' })),
    Status.FAILED_PRECONDITION,
  );
  t.is(
    codeOf(() => labelRows(matrix([[0.5, 0.5]]), { ...binary, labels: ['a', 'b', 'c'], activation: 'none' })),
    Status.FAILED_PRECONDITION,
  );
  t.is(
    codeOf(() => labelRows(matrix([[0.5]]), { ...binary, activation: 'tanh' })),
    Status.FAILED_PRECONDITION,
  );
});

test('readFirstOutput reads raw little-endian FP32, even from an unaligned buffer', (t) => {
  const bytes = Buffer.alloc(1 + 4 * 4);
  [0.25, 0.75, -1.5, 8].forEach((value, index) => bytes.writeFloatLE(value, 1 + index * 4));
  const result = readFirstOutput(response({ raw: bytes.subarray(1), shape: [2, 2] }), 2);
  t.deepEqual([...result.values], [0.25, 0.75, -1.5, 8]);
  t.is(result.rows, 2);
  t.is(result.columns, 2);
  const aligned = readFirstOutput(response({ raw: Buffer.from(bytes.subarray(1)), shape: [2, 2] }), 2);
  t.deepEqual([...aligned.values], [0.25, 0.75, -1.5, 8]);
});

test('readFirstOutput falls back to typed fp32_contents', (t) => {
  const result = readFirstOutput(response({ fp32: [0.5, 0.25, 0.125], shape: [3, 1] }), 3);
  t.deepEqual([...result.values], [0.5, 0.25, 0.125]);
  t.is(result.columns, 1);
});

test('readFirstOutput refuses other datatypes and a row count that does not fit', (t) => {
  t.is((t.throws(() => readFirstOutput(response({ fp32: [1], shape: [1, 1], datatype: 'FP64' }), 1)) as { code?: number }).code, Status.FAILED_PRECONDITION);
  t.is((t.throws(() => readFirstOutput(response({ fp32: [1, 2, 3], shape: [3] }), 2)) as { code?: number }).code, Status.INTERNAL);
});
