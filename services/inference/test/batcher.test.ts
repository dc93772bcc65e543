import test from 'ava';
import { Status } from '@maas/protos';
import { balancedBatches, Batcher, type BatchRunner, type BatcherOptions, type BatchRequest } from '../src/batcher.js';
import { type HostTensor, numericView, splitBytesElements } from '../src/datatypes.js';
import type { ModelSignature } from '../src/tensor-codec.js';
import { concatRows, splitRows } from '../src/tensor-ops.js';
import { rawBytes } from './helpers/oip-messages.js';

const i32 = (name: string, shape: number[], values: number[]): HostTensor => ({
  name,
  datatype: 'INT32',
  shape,
  data: new Uint8Array(Int32Array.from(values).buffer),
});
const valuesOf = (tensor: HostTensor) => Array.from(numericView(tensor.datatype, tensor.data) as Int32Array);

/** Model x INT32 [-1, seq] → y = x + 1000 (same shape), with seq dynamic or fixed. */
const signature = (seq: number): ModelSignature => ({
  model: 'm',
  version: '1',
  inputs: [{ name: 'x', datatype: 'INT32', shape: [-1, seq] }],
  outputs: [
    { name: 'y', datatype: 'INT32', shape: [-1, seq] },
    { name: 'z', datatype: 'INT32', shape: [-1, seq] },
  ],
  batchable: true,
});

/** A runner that records every batch and can be held (to let the queue fill while "the worker" is busy). */
class FakeRunner implements BatchRunner {
  batches: Array<{ inputs: HostTensor[]; outputs: string[] }> = [];
  private gate: Promise<void> = Promise.resolve();
  private openGate: () => void = () => undefined;
  fail: Error | undefined;
  dropRow = false;
  /** What each run reports as its compute time (the batcher estimates compute per row from it). */
  computeSeconds = 0.001;

  constructor(readonly concurrency = 1) {}

  hold(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  release(): void {
    this.openGate();
  }

  async run(inputs: HostTensor[], outputs: string[]) {
    this.batches.push({ inputs, outputs });
    await this.gate;
    if (this.fail) throw this.fail;
    const x = inputs[0]!;
    const rows = this.dropRow ? x.shape[0]! - 1 : x.shape[0]!;
    const plus = (offset: number) => Int32Array.from(valuesOf(x).slice(0, (rows * x.data.byteLength) / 4 / x.shape[0]!), (value) => value + offset);
    const tensors = { y: plus(1000), z: plus(2000) } as Record<string, Int32Array>;
    return {
      outputs: outputs.map((name) => ({ name, datatype: 'INT32' as const, shape: [rows, ...x.shape.slice(1)], data: new Uint8Array(tensors[name]!.buffer) })),
      computeSeconds: this.computeSeconds,
    };
  }
}

function batcher(runner: FakeRunner, options: Partial<BatcherOptions> = {}) {
  return new Batcher({
    signature: signature(-1),
    runner,
    maxBatchSize: 64,
    maxBatchTokens: 0,
    maxQueueDelayMs: 0,
    maxQueueRows: 1000,
    padDynamicDims: true,
    padSide: 'post',
    ...options,
  });
}

const request = (values: number[][], extra: Partial<BatchRequest> = {}): BatchRequest => ({
  inputs: [i32('x', [values.length, values[0]!.length], values.flat())],
  rows: values.length,
  outputs: ['y'],
  ...extra,
});

const codeOf = async (promise: Promise<unknown>) =>
  (
    (await promise.then(
      () => undefined,
      (error: unknown) => error,
    )) as { code?: number } | undefined
  )?.code;

test('concurrent requests are coalesced into one run and each gets its own rows back', async (t) => {
  const runner = new FakeRunner();
  const stats: Array<{ rows: number; requests: number }> = [];
  const b = batcher(runner, { observer: { batchRun: (s) => stats.push(s) } });
  const results = await Promise.all([
    b.submit(request([[1, 2]])),
    b.submit(
      request([
        [3, 4],
        [5, 6],
      ]),
    ),
    b.submit(request([[7, 8]], { outputs: ['z', 'y'] })),
  ]);
  t.is(runner.batches.length, 1);
  t.deepEqual(runner.batches[0]!.inputs[0]!.shape, [4, 2]);
  t.deepEqual(runner.batches[0]!.outputs, ['y', 'z']);
  t.deepEqual(stats, [{ rows: 4, requests: 3, computeSeconds: 0.001 }]);
  t.deepEqual(
    results[0]!.map((tensor) => [tensor.name, tensor.shape, valuesOf(tensor)]),
    [['y', [1, 2], [1001, 1002]]],
  );
  t.deepEqual(
    results[1]!.map((tensor) => [tensor.name, tensor.shape, valuesOf(tensor)]),
    [['y', [2, 2], [1003, 1004, 1005, 1006]]],
  );
  t.deepEqual(
    results[2]!.map((tensor) => [tensor.name, valuesOf(tensor)]),
    [
      ['z', [2007, 2008]],
      ['y', [1007, 1008]],
    ],
  );
});

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

test('a lone request on an idle worker is dispatched in the same event-loop turn, with no timer', async (t) => {
  const runner = new FakeRunner();
  const b = batcher(runner, { maxQueueDelayMs: 0 });
  const result = b.submit(request([[7]]));
  t.is(runner.batches.length, 0); // not synchronously: requests of the same turn may still join
  await nextTurn();
  t.is(runner.batches.length, 1);
  t.deepEqual(valuesOf((await result)[0]!), [1007]);
});

test('a burst that arrives while the worker is busy accumulates and runs as one batch when it frees', async (t) => {
  const runner = new FakeRunner();
  runner.hold();
  const b = batcher(runner);
  const first = b.submit(request([[0]]));
  await nextTurn();
  const burst = Array.from({ length: 5 }, (_, i) => b.submit(request([[i + 1]])));
  await nextTurn();
  t.is(runner.batches.length, 1); // the worker is busy: the burst waits
  t.is(b.queuedRows, 5);
  runner.release();
  const results = await Promise.all([first, ...burst]);
  t.deepEqual(rowsOf(runner), [1, 5]);
  results.forEach((outputs, i) => t.deepEqual(valuesOf(outputs[0]!), [1000 + i]));
});

test('MAX_QUEUE_DELAY_MS > 0 keeps a lone request waiting for company until the delay passes', async (t) => {
  const runner = new FakeRunner();
  const b = batcher(runner, { maxQueueDelayMs: 500 });
  const lone = b.submit(request([[1]]));
  await nextTurn();
  t.is(runner.batches.length, 0);
  const joined = b.submit(request([[2]]));
  t.deepEqual(await Promise.all([lone, joined]).then((all) => all.map((outputs) => valuesOf(outputs[0]!))), [[1001], [1002]]);
  t.deepEqual(rowsOf(runner), [2]);
});

test('token budget: a batch holds at most MAX_BATCH_TOKENS padded positions (rows × the longest sequence)', async (t) => {
  const runner = new FakeRunner();
  runner.hold();
  const b = batcher(runner, { maxBatchTokens: 12 });
  const first = b.submit(request([[0, 0]]));
  await nextTurn();
  // Queued while the worker is busy: lengths 2, 2, 2, 4, 1, 3 (one row each).
  const lengths = [2, 2, 2, 4, 1, 3];
  const queued = lengths.map((length, i) => b.submit(request([Array(length).fill(i + 1)])));
  runner.release();
  const results = await Promise.all(queued);
  await first;
  // [2,2,2] = 3 rows × 2; adding the 4-long row would make 4 × 4 = 16 > 12, so it starts the next batch:
  // [4,1] = 2 × 4 = 8, then [4,1,3] would be 3 × 4 = 12 ≤ 12.
  t.deepEqual(
    runner.batches.map((batch) => batch.inputs[0]!.shape),
    [
      [1, 2],
      [3, 2],
      [3, 4],
    ],
  );
  // Padding goes only to the longest row of each batch; each request gets its rows at that width.
  t.deepEqual(
    results.map((outputs) => outputs[0]!.shape),
    [
      [1, 2],
      [1, 2],
      [1, 2],
      [1, 4],
      [1, 4],
      [1, 4],
    ],
  );
  t.deepEqual(valuesOf(results[4]![0]!), [1005, 1000, 1000, 1000]);
});

test('token budget: one request above the budget still runs, alone', async (t) => {
  const runner = new FakeRunner();
  const b = batcher(runner, { maxBatchTokens: 4 });
  const results = await Promise.all([b.submit(request([[1, 1, 1, 1, 1, 1]])), b.submit(request([[2]]))]);
  t.deepEqual(
    runner.batches.map((batch) => batch.inputs[0]!.shape),
    [
      [1, 6],
      [1, 1],
    ],
  );
  t.deepEqual(valuesOf(results[1]![0]!), [1002]);
});

test('token budget does not apply to a model without dynamic dims after dim 0: rows alone limit its batches', async (t) => {
  const runner = new FakeRunner();
  const b = batcher(runner, { signature: signature(3), maxBatchTokens: 4 });
  await Promise.all(Array.from({ length: 4 }, (_, i) => b.submit(request([[i, i, i]]))));
  t.deepEqual(
    runner.batches.map((batch) => batch.inputs[0]!.shape),
    [[4, 3]],
  );
});

test('batches hold at most MAX_BATCH_SIZE rows; the rest run next', async (t) => {
  const runner = new FakeRunner();
  const b = batcher(runner, { maxBatchSize: 4 });
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => b.submit(request([[i, i]]))));
  t.deepEqual(
    runner.batches.map((batch) => batch.inputs[0]!.shape[0]),
    [4, 4, 2],
  );
  results.forEach((outputs, i) => t.deepEqual(valuesOf(outputs[0]!), [1000 + i, 1000 + i]));
});

test('with MAX_QUEUE_DELAY_MS, a full batch runs without waiting for the delay', async (t) => {
  const runner = new FakeRunner();
  const b = batcher(runner, { maxBatchSize: 2, maxQueueDelayMs: 60_000 });
  const results = await Promise.all([b.submit(request([[1]])), b.submit(request([[2]]))]);
  t.is(runner.batches.length, 1);
  t.deepEqual(
    results.map((outputs) => valuesOf(outputs[0]!)),
    [[1001], [1002]],
  );
});

test('requests differing in a dynamic dim are padded with 0 to the longest (post and pre)', async (t) => {
  for (const padSide of ['post', 'pre'] as const) {
    const runner = new FakeRunner();
    const b = batcher(runner, { padSide });
    const [short, long] = await Promise.all([b.submit(request([[1, 2]])), b.submit(request([[3, 4, 5]]))]);
    t.is(runner.batches.length, 1);
    t.deepEqual(runner.batches[0]!.inputs[0]!.shape, [2, 3]);
    t.deepEqual(valuesOf(runner.batches[0]!.inputs[0]!), padSide === 'post' ? [1, 2, 0, 3, 4, 5] : [0, 1, 2, 3, 4, 5]);
    // Outputs come back at the padded size.
    t.deepEqual(short![0]!.shape, [1, 3]);
    t.deepEqual(valuesOf(short![0]!), padSide === 'post' ? [1001, 1002, 1000] : [1000, 1001, 1002]);
    t.deepEqual(valuesOf(long![0]!), [1003, 1004, 1005]);
  }
});

test('without padding, requests of different trailing shapes run in separate batches', async (t) => {
  const runner = new FakeRunner();
  const b = batcher(runner, { padDynamicDims: false });
  await Promise.all([b.submit(request([[1, 2]])), b.submit(request([[3, 4, 5]])), b.submit(request([[6, 7]]))]);
  t.deepEqual(
    runner.batches.map((batch) => batch.inputs[0]!.shape),
    [
      [2, 2],
      [1, 3],
    ],
  );
});

test('a model whose dim 0 is fixed runs each request alone', async (t) => {
  const runner = new FakeRunner();
  const fixed: ModelSignature = { ...signature(2), batchable: false };
  const b = batcher(runner, { signature: fixed });
  await Promise.all([b.submit(request([[1, 2]])), b.submit(request([[3, 4]]))]);
  t.is(runner.batches.length, 2);
});

test('a full queue answers RESOURCE_EXHAUSTED', async (t) => {
  const runner = new FakeRunner();
  runner.hold();
  const b = batcher(runner, { maxQueueRows: 3, maxQueueDelayMs: 0, maxBatchSize: 1 });
  const running = b.submit(request([[0]])); // taken by the busy worker
  await new Promise((resolve) => setImmediate(resolve));
  const queued = [b.submit(request([[1], [2]])), b.submit(request([[3]]))];
  t.is(b.queuedRows, 3);
  const refused = b.submit(request([[4]]));
  t.is(await codeOf(refused), Status.RESOURCE_EXHAUSTED);
  t.regex(String(await refused.catch((error: Error) => error.message)), /queue of model 'm' version '1' is full \(3 rows waiting, limit 3\)/);
  runner.release();
  t.is((await Promise.all([running, ...queued])).length, 3);
});

test('requests whose deadline passed or whose client cancelled are dropped before running', async (t) => {
  const runner = new FakeRunner();
  runner.hold();
  const dropped: string[] = [];
  const b = batcher(runner, { maxQueueDelayMs: 0, observer: { dropped: (reason) => dropped.push(reason) } });
  const first = b.submit(request([[0]]));
  await new Promise((resolve) => setImmediate(resolve));
  let cancelled = false;
  const late = b.submit(request([[1]], { deadline: Date.now() + 5 }));
  const gone = b.submit(request([[2]], { isCancelled: () => cancelled }));
  const fine = b.submit(request([[3]], { deadline: Date.now() + 60_000, isCancelled: () => false }));
  cancelled = true;
  // Time must pass, not a condition: `late`'s 5 ms deadline expires while the first batch holds the runner.
  await new Promise((resolve) => setTimeout(resolve, 30));
  runner.release();
  t.is(await codeOf(late), Status.DEADLINE_EXCEEDED);
  t.is(await codeOf(gone), Status.CANCELLED);
  t.deepEqual(valuesOf((await fine)[0]!), [1003]);
  await first;
  t.deepEqual(dropped.sort(), ['cancelled', 'deadline']);
  // The dropped requests never reached the runner.
  t.deepEqual(
    runner.batches.map((batch) => valuesOf(batch.inputs[0]!)),
    [[0], [3]],
  );
});

test('a failed run rejects every request of the batch, and the batcher keeps serving', async (t) => {
  const runner = new FakeRunner();
  runner.fail = new Error('boom');
  const b = batcher(runner);
  const results = await Promise.allSettled([b.submit(request([[1]])), b.submit(request([[2]]))]);
  t.deepEqual(
    results.map((result) => result.status),
    ['rejected', 'rejected'],
  );
  runner.fail = undefined;
  t.deepEqual(valuesOf((await b.submit(request([[5]])))[0]!), [1005]);
});

test('an output without one row per input row is an INTERNAL error', async (t) => {
  const runner = new FakeRunner();
  runner.dropRow = true;
  const b = batcher(runner);
  const results = await Promise.allSettled([b.submit(request([[1]])), b.submit(request([[2]]))]);
  for (const result of results) {
    t.is(result.status, 'rejected');
    t.is(((result as PromiseRejectedResult).reason as { code: number }).code, Status.INTERNAL);
  }
});

test('close() lets queued requests finish and refuses new ones', async (t) => {
  const runner = new FakeRunner();
  runner.hold();
  const b = batcher(runner, { maxQueueDelayMs: 60_000 });
  const queued = b.submit(request([[1]]));
  const closed = b.close();
  t.is(await codeOf(b.submit(request([[2]]))), Status.UNAVAILABLE);
  runner.release();
  t.deepEqual(valuesOf((await queued)[0]!), [1001]);
  await closed;
});

test('batches run on as many workers as the runner has', async (t) => {
  const runner = new FakeRunner(2);
  runner.hold();
  const b = batcher(runner, { maxBatchSize: 1, maxQueueDelayMs: 0 });
  const all = [b.submit(request([[1]])), b.submit(request([[2]])), b.submit(request([[3]]))];
  await new Promise((resolve) => setImmediate(resolve));
  t.is(runner.batches.length, 2);
  runner.release();
  await Promise.all(all);
  t.is(runner.batches.length, 3);
});

const rowsOf = (runner: FakeRunner) => runner.batches.map((batch) => batch.inputs[0]!.shape[0]);
const untilBatches = async (runner: FakeRunner, count: number) => {
  while (runner.batches.length < count) await new Promise((resolve) => setTimeout(resolve, 1));
};

test('two free workers split the queued requests between them, balanced by rows, and each gets its rows back', async (t) => {
  const runner = new FakeRunner(2);
  const stats: Array<{ rows: number; requests: number }> = [];
  const depths: number[] = [];
  const b = batcher(runner, { observer: { batchRun: (s) => stats.push(s), queueDepth: (rows) => depths.push(rows) } });
  const results = await Promise.all(Array.from({ length: 6 }, (_, i) => b.submit(request([[i, i]]))));
  // Arrival order is kept: the first three in one batch, the last three in the other.
  t.deepEqual(
    runner.batches.map((batch) => valuesOf(batch.inputs[0]!)),
    [
      [0, 0, 1, 1, 2, 2],
      [3, 3, 4, 4, 5, 5],
    ],
  );
  t.deepEqual(stats, [
    { rows: 3, requests: 3, computeSeconds: 0.001 },
    { rows: 3, requests: 3, computeSeconds: 0.001 },
  ]);
  t.is(depths.at(-1), 0);
  results.forEach((outputs, i) => t.deepEqual(valuesOf(outputs[0]!), [1000 + i, 1000 + i]));
});

test('a split keeps each request whole and balances by rows, not by requests', async (t) => {
  const runner = new FakeRunner(2);
  const b = batcher(runner);
  const sizes = [4, 1, 1, 1, 1];
  const results = await Promise.all(sizes.map((rows, i) => b.submit(request(Array.from({ length: rows }, () => [i])))));
  t.deepEqual(
    runner.batches.map((batch) => valuesOf(batch.inputs[0]!)),
    [
      [0, 0, 0, 0],
      [1, 2, 3, 4],
    ],
  );
  results.forEach((outputs, i) => t.deepEqual(valuesOf(outputs[0]!), Array(sizes[i]).fill(1000 + i)));
});

test('one free worker takes every queued request that fits, even when the runner has more workers', async (t) => {
  const runner = new FakeRunner(2);
  runner.hold();
  const b = batcher(runner);
  const first = b.submit(request([[0]]));
  await untilBatches(runner, 1); // the first request now occupies one of the two workers
  const queued = Array.from({ length: 4 }, (_, i) => b.submit(request([[i + 1]])));
  await untilBatches(runner, 2);
  runner.release();
  await Promise.all([first, ...queued]);
  t.deepEqual(rowsOf(runner), [1, 4]);
});

test('enough rows for every free worker start at once as full batches, without waiting for the delay', async (t) => {
  const runner = new FakeRunner(2);
  const b = batcher(runner, { maxBatchSize: 4, maxQueueDelayMs: 60_000 });
  await Promise.all(Array.from({ length: 8 }, (_, i) => b.submit(request([[i]]))));
  t.deepEqual(rowsOf(runner), [4, 4]);
});

test('without padding, each input shape waiting keeps a free worker for itself', async (t) => {
  const runner = new FakeRunner(3);
  const b = batcher(runner, { padDynamicDims: false });
  await Promise.all([
    b.submit(request([[1, 2]])),
    b.submit(request([[3, 4]])),
    b.submit(request([[5, 6]])),
    b.submit(request([[7, 8, 9]])),
    b.submit(request([[10, 11]])),
  ]);
  // Three free workers: two share the first shape's requests, the third runs the other shape.
  t.deepEqual(
    runner.batches.map((batch) => batch.inputs[0]!.shape),
    [
      [2, 2],
      [2, 2],
      [1, 3],
    ],
  );
});

test('balancedBatches: equal shares of whole requests, each within the most rows, one larger request alone', (t) => {
  const items = (sizes: number[]) => sizes.map((rows) => ({ request: { rows } }));
  const sizesOf = (batches: Array<Array<{ request: { rows: number } }>>) => batches.map((batch) => batch.map((item) => item.request.rows));
  t.deepEqual(sizesOf(balancedBatches(items([8, 8, 8, 8]), { workers: 2, maxRows: 64 })), [
    [8, 8],
    [8, 8],
  ]);
  t.deepEqual(sizesOf(balancedBatches(items([1, 1, 1, 1, 1, 1, 1, 1, 1]), { workers: 3, maxRows: 64 })), [
    [1, 1, 1],
    [1, 1, 1],
    [1, 1, 1],
  ]);
  t.deepEqual(sizesOf(balancedBatches(items([5, 5, 5]), { workers: 2, maxRows: 64 })), [[5], [5, 5]]);
  t.deepEqual(sizesOf(balancedBatches(items([1, 1, 1, 1, 60]), { workers: 2, maxRows: 64 })), [[1, 1, 1, 1], [60]]);
  t.deepEqual(sizesOf(balancedBatches(items([100, 1]), { workers: 2, maxRows: 64 })), [[100], [1]]);
  // A token budget ends a batch at the first request that would overflow it (rows × longest length).
  const sequences = (lengths: number[]) => lengths.map((length) => ({ request: { rows: 1 }, lengths: [[length]] }));
  const lengthsOf = (batches: Array<Array<{ lengths: number[][] }>>) => batches.map((batch) => batch.map((item) => item.lengths[0]![0]));
  t.deepEqual(lengthsOf(balancedBatches(sequences([8, 8, 16, 2, 2]), { workers: 1, maxRows: 64, maxTokens: 32 })), [[8, 8]]);
  t.deepEqual(lengthsOf(balancedBatches(sequences([16, 2, 2, 8]), { workers: 1, maxRows: 64, maxTokens: 48 })), [[16, 2, 2]]);
  t.deepEqual(lengthsOf(balancedBatches(sequences([4, 4, 4, 4]), { workers: 2, maxRows: 64, maxTokens: 4 })), [[4], [4]]);
  // More rows than the workers hold: full batches, the rest stays queued.
  t.deepEqual(sizesOf(balancedBatches(items(Array(10).fill(30)), { workers: 2, maxRows: 64 })), [
    [30, 30],
    [30, 30],
  ]);
  // One worker: as much as fits.
  t.deepEqual(sizesOf(balancedBatches(items([8, 8, 8, 8]), { workers: 1, maxRows: 64 })), [[8, 8, 8, 8]]);
  t.deepEqual(sizesOf(balancedBatches(items([8, 8, 8, 8]), { workers: 1, maxRows: 20 })), [[8, 8]]);
});

test('BYTES tensors concatenate with empty-string padding and split back by rows', (t) => {
  const a: HostTensor = { name: 's', datatype: 'BYTES', shape: [1, 1], data: rawBytes(['a']) };
  const b: HostTensor = { name: 's', datatype: 'BYTES', shape: [2, 2], data: rawBytes(['b', 'cc', 'd', 'ee']) };
  const batch = concatRows([a, b], [2], 'post');
  t.deepEqual(batch.shape, [3, 2]);
  const text = (tensor: HostTensor) => splitBytesElements(tensor.data).map((element) => Buffer.from(element).toString());
  t.deepEqual(text(batch), ['a', '', 'b', 'cc', 'd', 'ee']);
  const [first, second] = splitRows(batch, [1, 2]);
  t.deepEqual(
    [first!.shape, text(first!)],
    [
      [1, 2],
      ['a', ''],
    ],
  );
  t.deepEqual(
    [second!.shape, text(second!)],
    [
      [2, 2],
      ['b', 'cc', 'd', 'ee'],
    ],
  );
});

test('padding works on inner dims of rank-3 tensors', (t) => {
  const a = i32('x', [1, 1, 2], [1, 2]);
  const b = i32('x', [1, 2, 1], [3, 4]);
  t.deepEqual(valuesOf(concatRows([a, b], [2, 2], 'post')), [1, 2, 0, 0, 3, 0, 4, 0]);
  t.deepEqual(valuesOf(concatRows([a, b], [2, 2], 'pre')), [0, 0, 1, 2, 0, 3, 0, 4]);
});

test('a compute-heavy request is cut into row ranges that run on the free workers side by side, its outputs stacked back in order', async (t) => {
  const runner = new FakeRunner(2);
  // 10 ms per row, as measured from the first batch: 4 rows are 40 ms of compute, worth two workers.
  runner.computeSeconds = 0.04;
  const b = batcher(runner, { splitMinComputeMs: 2 });
  const rows = [
    [1, 2],
    [3, 4],
    [5, 6],
    [7, 8],
  ];
  t.deepEqual(valuesOf((await b.submit(request(rows)))[0]!), [1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008]);
  t.deepEqual(rowsOf(runner), [4], 'no estimate before the first batch: it runs whole');

  runner.hold();
  const split = b.submit(request(rows, { outputs: ['z', 'y'] }));
  await untilBatches(runner, 3);
  t.deepEqual(rowsOf(runner).slice(1), [2, 2], 'both halves started before either finished');
  runner.release();
  const [z, y] = await split;
  t.deepEqual(z!.shape, [4, 2]);
  t.deepEqual(valuesOf(z!), [2001, 2002, 2003, 2004, 2005, 2006, 2007, 2008]);
  t.deepEqual(valuesOf(y!), [1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008]);
});

test('cheap rows, one worker, one row or SPLIT_MIN_COMPUTE_MS 0: a request is never split', async (t) => {
  const rows = Array.from({ length: 8 }, (_, i) => [i, i]);
  const cases: Array<{ workers: number; computeSeconds: number; splitMinComputeMs: number; first: number[][]; then: number[][] }> = [
    // 8 rows at 0.1 ms a row: under twice 2 ms.
    { workers: 2, computeSeconds: 0.0008, splitMinComputeMs: 2, first: rows, then: rows },
    // A small model's 1-row batch (1 ms, its fixed cost): 8 rows would seem 8 ms by the row, but no batch takes 4 ms.
    { workers: 2, computeSeconds: 0.001, splitMinComputeMs: 2, first: [[1, 1]], then: rows },
    { workers: 1, computeSeconds: 1, splitMinComputeMs: 2, first: rows, then: rows },
    { workers: 2, computeSeconds: 1, splitMinComputeMs: 2, first: rows, then: [[1, 1]] },
    { workers: 2, computeSeconds: 1, splitMinComputeMs: 0, first: rows, then: rows },
  ];
  for (const { workers, computeSeconds, splitMinComputeMs, first, then } of cases) {
    const runner = new FakeRunner(workers);
    runner.computeSeconds = computeSeconds;
    const b = batcher(runner, { splitMinComputeMs });
    await b.submit(request(first));
    await b.submit(request(then));
    t.deepEqual(rowsOf(runner), [first.length, then.length], JSON.stringify({ workers, computeSeconds, splitMinComputeMs, rows: then.length }));
  }
});
