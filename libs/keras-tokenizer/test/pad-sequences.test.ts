import test from 'ava';
import { padSequences, padSequencesToInt64 } from '../src/index.js';

const FACTS_INPUT = [[1, 2, 3], [4], [], [5, 6, 7, 8, 9]];
const FACTS_OUTPUT = [
  [0, 1, 2, 3],
  [0, 0, 0, 4],
  [0, 0, 0, 0],
  [6, 7, 8, 9],
];

test('facts example: pre padding, pre truncating keeps the last maxlen items', (t) => {
  t.deepEqual(padSequences(FACTS_INPUT, { maxlen: 4 }), FACTS_OUTPUT);
});

test('without maxlen, pads to the longest sequence', (t) => {
  t.deepEqual(padSequences([[1], [2, 3, 4], []]), [
    [0, 0, 1],
    [2, 3, 4],
    [0, 0, 0],
  ]);
  t.deepEqual(padSequences([]), []);
});

test('post padding and post truncating', (t) => {
  const input = [[1, 2, 3, 4, 5], [6]];
  t.deepEqual(padSequences(input, { maxlen: 3, padding: 'post' }), [
    [3, 4, 5],
    [6, 0, 0],
  ]);
  t.deepEqual(padSequences(input, { maxlen: 3, truncating: 'post' }), [
    [1, 2, 3],
    [0, 0, 6],
  ]);
  t.deepEqual(padSequences(input, { maxlen: 3, padding: 'post', truncating: 'post' }), [
    [1, 2, 3],
    [6, 0, 0],
  ]);
});

test('custom fill value', (t) => {
  t.deepEqual(padSequences([[7], []], { maxlen: 3, value: -1 }), [
    [-1, -1, 7],
    [-1, -1, -1],
  ]);
});

test('bad options are refused like Keras does', (t) => {
  t.throws(() => padSequences([[1]], { padding: 'middle' as 'pre' }), { message: /Padding type "middle" not understood/ });
  t.throws(() => padSequences([[1]], { truncating: 'x' as 'pre' }), { message: /Truncating type "x" not understood/ });
  t.throws(() => padSequences([[1]], { maxlen: -1 }), { instanceOf: RangeError });
  t.throws(() => padSequences([[1]], { maxlen: 2.5 }), { instanceOf: RangeError });
});

test('padSequencesToInt64 gives the same matrix, row-major in one BigInt64Array', (t) => {
  const out = padSequencesToInt64(FACTS_INPUT, { maxlen: 4 });
  t.true(out instanceof BigInt64Array);
  t.deepEqual([...out], FACTS_OUTPUT.flat().map(BigInt));
  const post = padSequencesToInt64([[1, 2, 3, 4, 5], [6]], { maxlen: 3, padding: 'post', truncating: 'post', value: 9 });
  t.deepEqual([...post], [1n, 2n, 3n, 6n, 9n, 9n]);
});

test('padSequencesToInt64 writes values outside int32 and negatives exactly', (t) => {
  const out = padSequencesToInt64([[2 ** 40, -(2 ** 40), -1, 2 ** 31]], { maxlen: 5 });
  t.deepEqual([...out], [0n, 2n ** 40n, -(2n ** 40n), -1n, 2n ** 31n]);
});

test('padSequencesToInt64 refuses non-integers and a missing maxlen', (t) => {
  t.throws(() => padSequencesToInt64([[1.5]], { maxlen: 2 }), { instanceOf: RangeError });
  t.throws(() => padSequencesToInt64([[1]], {} as { maxlen: number }), { instanceOf: RangeError });
});
