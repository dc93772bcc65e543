import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { Status } from '@maas/protos';
import { createLogger } from '@maas/shared';
import { encodeBatch, type EncodingLayout } from '../src/encoder.js';
import { EncodePool } from '../src/encode-pool.js';
import { tokenizerOfKind } from '../src/tokenizer-kinds.js';

const fixture = (name: string) => readFileSync(path.join(__dirname, 'fixtures', name), 'utf8');
const logger = createLogger({ service: 'tokenizer-test', level: 'silent' });
// Pre-padding, a pad id and a length that truncates the long text: every part of the layout travels to the workers.
const inputs: EncodingLayout['inputs'] = [
  { name: 'input_ids', datatype: 'INT64', role: 'input_ids' },
  { name: 'attention_mask', datatype: 'INT32', role: 'attention_mask' },
];
const layout: EncodingLayout = { maxLength: 8, paddingSide: 'pre', truncationSide: 'pre', padId: 3, inputs };
const texts = ['Hello, world!', 'the quick brown fox jumps over the lazy dog again and again', '', 'Unaffable runner'];
const codeOf = async (promise: Promise<unknown>) =>
  (
    (await promise.then(
      () => undefined,
      (error: unknown) => error,
    )) as { code?: number } | undefined
  )?.code;

test('batches encoded in the workers are byte for byte what encodeBatch writes on the main thread', async (t) => {
  const pool = new EncodePool({ size: 2, logger });
  t.teardown(() => pool.close());
  for (const [kind, file] of [
    ['huggingface', 'wordpiece-tokenizer.json'],
    ['huggingface', 'bpe-tokenizer.json'],
    ['keras', 'keras-tokenizer.json'],
  ] as const) {
    const fileText = fixture(file);
    const handle = pool.register({ kind, fileText, layout });
    // More batches than workers, so both take some; wide and narrow alike (the narrow ones share a reused buffer per thread).
    const narrowIntegers = (index: number) => index % 2 === 1;
    const expected = [false, true].map((narrow) => encodeBatch({ tokenizer: tokenizerOfKind(kind, fileText), layout, texts, narrowIntegers: narrow }));
    const batches = await Promise.all(Array.from({ length: 6 }, (_, index) => pool.encode(handle, texts, { narrowIntegers: narrowIntegers(index) })));
    for (const [index, batch] of batches.entries()) {
      const expect = expected[narrowIntegers(index) ? 1 : 0]!;
      t.deepEqual(batch.tokenCounts, expect.tokenCounts);
      t.deepEqual(batch.truncated, expect.truncated);
      t.deepEqual(
        batch.tensors.map((tensor) => [tensor.name, tensor.datatype, tensor.shape, tensor.raw_contents.toString('hex')]),
        expect.tensors.map((tensor) => [tensor.name, tensor.datatype, tensor.shape, tensor.raw_contents.toString('hex')]),
        file,
      );
      t.true(batch.seconds >= 0);
    }
  }
});

test('workers start with the first tokenizer; an unregistered one is INTERNAL; a worker that dies fails its batch as UNAVAILABLE and is replaced', async (t) => {
  const pool = new EncodePool({ size: 1, logger });
  t.teardown(() => pool.close());
  const threads = () => (pool as unknown as { workers: Array<{ thread: { terminate(): Promise<number> } }> }).workers;
  // No thread runs before a tokenizer is registered.
  t.is(await codeOf(pool.encode(1, texts)), Status.INTERNAL);
  t.is(threads().length, 0);
  const handle = pool.register({ kind: 'huggingface', fileText: fixture('wordpiece-tokenizer.json'), layout });
  pool.unregister(handle);
  t.is(await codeOf(pool.encode(handle, texts)), Status.INTERNAL);

  const again = pool.register({ kind: 'huggingface', fileText: fixture('wordpiece-tokenizer.json'), layout });
  const inFlight = pool.encode(again, texts);
  // Stands for a crash inside the native tokenizer library: the thread goes away with a batch in flight.
  await threads()[0]!.thread.terminate();
  t.is(await codeOf(inFlight), Status.UNAVAILABLE);
  // The replacement has the registered tokenizer.
  const batch = await pool.encode(again, texts);
  t.deepEqual(
    batch.tensors.map((tensor) => tensor.shape),
    [
      [4, 8],
      [4, 8],
    ],
  );
});
