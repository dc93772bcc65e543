import path from 'node:path';
import test from 'ava';
import { DATATYPES, type Datatype, type HostTensor, numericView, packBytesElements, splitBytesElements } from '../src/datatypes.js';
import { SessionPool, sessionWorkerEntry } from '../src/session-pool.js';
import { capturingLogger, session, writeModel } from './helpers/session-fixtures.js';
import { echoModel, type ElementType, tinyClassifier } from './helpers/tiny-onnx.js';

const ALL: ElementType[] = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'];

/** Two rows × two columns of sample data per datatype, as host bytes. */
function sample(datatype: Datatype): Uint8Array {
  if (datatype === 'BYTES') return packBytesElements(['a', '', 'héllo', 'z'].map((text) => new TextEncoder().encode(text)));
  const info = DATATYPES[datatype];
  const array = new info.array!(4);
  const values = datatype === 'BOOL' ? [1, 0, 0, 1] : [1, 2, 3, 100];
  values.forEach(
    (value, index) =>
      ((array as unknown as Array<number | bigint>)[index] = array instanceof BigInt64Array || array instanceof BigUint64Array ? BigInt(value) : value),
  );
  return new Uint8Array(array.buffer);
}

test('the worker script resolves to the TypeScript source under tsx', (t) => {
  const entry = sessionWorkerEntry(path.join(__dirname, '..', 'src'));
  t.true(entry.file.endsWith('session-worker.ts'));
  t.deepEqual(entry.execArgv, ['--require', require.resolve('tsx/cjs')]);
});

test('every datatype goes through a worker session and back unchanged', async (t) => {
  const { logger } = capturingLogger();
  const pool = await SessionPool.create({ session: session(writeModel(echoModel(ALL))), size: 1, logger });
  try {
    t.is(pool.provider, 'cpu');
    t.deepEqual(
      pool.inputs.map((input) => [input.name, input.type]),
      ALL.map((type) => [`${type.toLowerCase()}_in`, DATATYPES[type].ort]),
    );
    const inputs: HostTensor[] = ALL.map((type) => ({ name: `${type.toLowerCase()}_in`, datatype: type, shape: [2, 2], data: sample(type) }));
    const outputs = ALL.map((type) => `${type.toLowerCase()}_out`);
    const result = await pool.run(inputs, outputs);
    t.true(result.computeSeconds >= 0);
    for (const [index, type] of ALL.entries()) {
      const output = result.outputs[index]!;
      t.is(output.name, `${type.toLowerCase()}_out`);
      t.is(output.datatype, type);
      t.deepEqual(output.shape, [2, 2]);
      t.deepEqual(Buffer.from(output.data), Buffer.from(sample(type)), type);
    }
    t.deepEqual(
      splitBytesElements(result.outputs[ALL.indexOf('BYTES')]!.data).map((element) => new TextDecoder().decode(element)),
      ['a', '', 'héllo', 'z'],
    );
  } finally {
    await pool.close();
  }
});

test('batches spread over the workers of a pool and all answer', async (t) => {
  const { logger } = capturingLogger();
  const pool = await SessionPool.create({ session: session(writeModel(tinyClassifier())), size: 2, logger });
  try {
    t.is(pool.concurrency, 2);
    const run = (value: bigint) =>
      pool.run([{ name: 'input_ids', datatype: 'INT64', shape: [1, 8], data: new Uint8Array(new BigInt64Array(8).fill(value).buffer) }], ['probability']);
    const results = await Promise.all([run(0n), run(10n), run(0n)]);
    const score = (index: number) => (numericView('FP32', results[index]!.outputs[0]!.data) as Float32Array)[0]!;
    t.is(score(0), score(2));
    t.true(score(1) > score(0));
  } finally {
    await pool.close();
  }
});

test('sessions with several intra-op threads run with thread spinning off and on, with the same answers', async (t) => {
  const { logger } = capturingLogger();
  const model = writeModel(tinyClassifier());
  const scores: number[] = [];
  for (const threadSpinning of [false, true]) {
    const pool = await SessionPool.create({ session: session(model, { intraOpThreads: 2, interOpThreads: 2, threadSpinning }), size: 1, logger });
    try {
      const result = await pool.run(
        [{ name: 'input_ids', datatype: 'INT64', shape: [1, 8], data: new Uint8Array(new BigInt64Array(8).fill(3n).buffer) }],
        ['probability'],
      );
      scores.push((numericView('FP32', result.outputs[0]!.data) as Float32Array)[0]!);
    } finally {
      await pool.close();
    }
  }
  t.is(scores.length, 2);
  t.is(scores[0], scores[1]);
});

test('a file that is not an ONNX model fails the pool, not the process', async (t) => {
  const { logger } = capturingLogger();
  await t.throwsAsync(SessionPool.create({ session: session(writeModel(Buffer.from('not a model'))), size: 2, logger }));
});

test('a failing run is an INTERNAL error with the runtime message, and the worker keeps serving', async (t) => {
  const { logger } = capturingLogger();
  const pool = await SessionPool.create({ session: session(writeModel(tinyClassifier())), size: 1, logger });
  try {
    // A shape the graph refuses (seq 3 instead of 8) reaches the session only because this bypasses validation.
    const bad = pool.run([{ name: 'input_ids', datatype: 'INT64', shape: [1, 3], data: new Uint8Array(24) }], ['probability']);
    const error = (await t.throwsAsync(bad)) as Error & { code: number };
    t.is(error.code, 13);
    t.regex(error.message, /^inference failed: /);
    const good = await pool.run([{ name: 'input_ids', datatype: 'INT64', shape: [1, 8], data: new Uint8Array(64) }], ['probability']);
    t.deepEqual(good.outputs[0]!.shape, [1, 1]);
  } finally {
    await pool.close();
  }
});
