import { EventEmitter } from 'node:events';
import { Status } from '@maas/protos';
import { invalidArgument, unavailable } from '@maas/shared';
import test from 'ava';
import { Coalescer, type Batch, type BatchInfo, type CoalescerOptions } from '../src/coalescer.js';

type Meta = { caller: string };

/** A coalescer whose executor echoes each text upper-cased and records every batch it ran. */
function echoCoalescer(overrides: Partial<CoalescerOptions<Meta, string>> = {}) {
  const batches: Array<Batch<Meta>> = [];
  const infos: BatchInfo[] = [];
  const coalescer = new Coalescer<Meta, string>({
    maxDelayMs: 0,
    maxBatchTexts: 256,
    maxQueueTexts: 1_000,
    maxInFlight: 4,
    execute: async (batch) => {
      batches.push(batch);
      return batch.texts.map((text) => `${batch.version}:${text.toUpperCase()}`);
    },
    onBatch: (info) => infos.push(info),
    ...overrides,
  });
  return { coalescer, batches, infos };
}

const soon = (ms = 10_000) => new Date(Date.now() + ms);
const submit = (coalescer: Coalescer<Meta, string>, texts: string[], options: { version?: string; caller?: string; deadline?: Date; call?: FakeCall } = {}) =>
  coalescer.submit({
    model: 'm',
    version: options.version ?? '1',
    texts,
    meta: { caller: options.caller ?? texts.join() },
    deadline: options.deadline ?? soon(),
    ...(options.call ? { caller: options.call } : {}),
  });

/** A caller as a grpc-js server call is one: `cancelled`, and a 'cancelled' event when it goes away. */
class FakeCall extends EventEmitter {
  cancelled = false;
  cancel(): void {
    this.cancelled = true;
    this.emit('cancelled');
  }
}

/** A coalescer whose executor records each batch and holds it until `hold.releaseAll()`; it answers the texts as they are. */
function heldCoalescer(overrides: Partial<CoalescerOptions<Meta, string>> = {}) {
  const hold = gate();
  const held = echoCoalescer({
    execute: async (batch) => {
      held.batches.push(batch);
      await hold.wait();
      return batch.texts;
    },
    ...overrides,
  });
  return { ...held, hold };
}

/** Lets pending immediates (the coalescer's end-of-turn dispatch) and promise callbacks run. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** An executor that holds every batch until released, to pile requests up behind it. */
function gate() {
  const waiting: Array<() => void> = [];
  return {
    wait: () => new Promise<void>((resolve) => waiting.push(resolve)),
    releaseAll: () => waiting.splice(0).forEach((release) => release()),
    get pending() {
      return waiting.length;
    },
  };
}

test('concurrent requests for the same version merge into one batch and split back in order', async (t) => {
  const { coalescer, batches, infos } = echoCoalescer();
  const results = await Promise.all([submit(coalescer, ['a']), submit(coalescer, ['b', 'c']), submit(coalescer, ['d'])]);
  t.deepEqual(results, [['1:A'], ['1:B', '1:C'], ['1:D']]);
  t.is(batches.length, 1);
  t.deepEqual(batches[0]!.texts, ['a', 'b', 'c', 'd']);
  t.deepEqual(
    batches[0]!.requests.map((request) => request.meta.caller),
    ['a', 'b,c', 'd'],
  );
  t.like(infos[0], { model: 'm', version: '1', texts: 4, requests: 3 });
});

test('different versions never share a batch', async (t) => {
  const { coalescer, batches } = echoCoalescer();
  const results = await Promise.all([
    submit(coalescer, ['a'], { version: '1' }),
    submit(coalescer, ['b'], { version: '2' }),
    submit(coalescer, ['c'], { version: '1' }),
  ]);
  t.deepEqual(results, [['1:A'], ['2:B'], ['1:C']]);
  t.is(batches.length, 2);
  t.deepEqual(batches.map((batch) => [batch.version, batch.texts]).sort(), [
    ['1', ['a', 'c']],
    ['2', ['b']],
  ]);
});

test('a batch holds at most maxBatchTexts, but a single larger request goes whole', async (t) => {
  const { coalescer, batches } = echoCoalescer({ maxBatchTexts: 3 });
  await Promise.all([submit(coalescer, ['a', 'b']), submit(coalescer, ['c', 'd']), submit(coalescer, ['e', 'f', 'g', 'h']), submit(coalescer, ['i'])]);
  const sizes = batches.map((batch) => batch.texts.length);
  t.deepEqual(
    sizes.reduce((sum, size) => sum + size, 0),
    9,
  );
  t.true(batches.every((batch) => batch.texts.length <= 3 || batch.requests.length === 1));
  t.true(batches.some((batch) => batch.texts.length === 4 && batch.requests.length === 1));
});

test('while all slots are busy, requests queue and merge; a full queue answers RESOURCE_EXHAUSTED', async (t) => {
  const hold = gate();
  const { coalescer, batches } = echoCoalescer({
    maxInFlight: 1,
    maxQueueTexts: 3,
    execute: async (batch) => {
      batches.push(batch);
      await hold.wait();
      return batch.texts.map((text) => text.toUpperCase());
    },
  });
  const first = submit(coalescer, ['a']);
  while (hold.pending === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  const queued = [submit(coalescer, ['b']), submit(coalescer, ['c', 'd'])];
  t.deepEqual(coalescer.queueDepths(), [{ model: 'm', version: '1', texts: 3 }]);
  const error = await t.throwsAsync(submit(coalescer, ['e']));
  t.is((error as { code?: number }).code, Status.RESOURCE_EXHAUSTED);
  t.regex(error!.message, /queue for model m version 1 is full/);

  hold.releaseAll();
  t.deepEqual(await first, ['A']);
  while (hold.pending === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  hold.releaseAll();
  t.deepEqual(await Promise.all(queued), [['B'], ['C', 'D']]);
  t.deepEqual(
    batches.map((batch) => batch.texts),
    [['a'], ['b', 'c', 'd']],
  );
  t.deepEqual(coalescer.queueDepths(), []);
});

test('a downstream failure fails every caller of the batch with its status', async (t) => {
  const { coalescer } = echoCoalescer({ execute: async () => Promise.reject(unavailable('tokenizer: connection refused')) });
  const outcomes = await Promise.allSettled([submit(coalescer, ['a']), submit(coalescer, ['b'])]);
  for (const outcome of outcomes) {
    t.is(outcome.status, 'rejected');
    t.is(((outcome as PromiseRejectedResult).reason as { code?: number }).code, Status.UNAVAILABLE);
  }
});

test('a request refused for its own input fails alone; the others of its batch succeed', async (t) => {
  const executed: string[][] = [];
  const { coalescer } = echoCoalescer({
    execute: async (batch) => {
      executed.push(batch.texts);
      const bad = batch.texts.indexOf('bad');
      if (bad >= 0) throw invalidArgument(`texts[${bad}] is not acceptable`);
      return batch.texts.map((text) => text.toUpperCase());
    },
  });
  const [good, bad, other] = await Promise.allSettled([submit(coalescer, ['x']), submit(coalescer, ['y', 'bad']), submit(coalescer, ['z'])]);
  t.deepEqual((good as PromiseFulfilledResult<string[]>).value, ['X']);
  t.deepEqual((other as PromiseFulfilledResult<string[]>).value, ['Z']);
  const reason = (bad as PromiseRejectedResult).reason as { code?: number; message: string };
  t.is(reason.code, Status.INVALID_ARGUMENT);
  // Re-run alone, the index in the message is the caller's own.
  t.is(reason.message, 'texts[1] is not acceptable');
  t.deepEqual(executed[0], ['x', 'y', 'bad', 'z']);
});

test('re-running a refused batch request by request stays within maxInFlight', async (t) => {
  let running = 0;
  let most = 0;
  const executed: string[][] = [];
  const { coalescer } = echoCoalescer({
    maxInFlight: 1,
    execute: async (batch) => {
      executed.push(batch.texts);
      running += 1;
      most = Math.max(most, running);
      try {
        // Stay busy across a timer turn, so calls started together would overlap.
        await new Promise((resolve) => setTimeout(resolve, 1));
        if (batch.texts.includes('bad')) throw invalidArgument('bad is not acceptable');
        return batch.texts.map((text) => text.toUpperCase());
      } finally {
        running -= 1;
      }
    },
  });
  const texts = ['a', 'b', 'bad', 'c', 'd', 'e'];
  const outcomes = await Promise.allSettled(texts.map((text) => submit(coalescer, [text])));
  t.deepEqual(
    outcomes.map((outcome) => outcome.status),
    ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled'],
  );
  t.deepEqual((outcomes[5] as PromiseFulfilledResult<string[]>).value, ['E']);
  // The merged batch, then each request alone: never more than one downstream call at a time.
  t.deepEqual(executed, [texts, ...texts.map((text) => [text])]);
  t.is(most, 1);
});

test('an executor answering the wrong number of results is an INTERNAL error, not a silent mix-up', async (t) => {
  const { coalescer } = echoCoalescer({ execute: async () => ['only one'] });
  const error = await t.throwsAsync(Promise.all([submit(coalescer, ['a']), submit(coalescer, ['b'])]));
  t.is((error as { code?: number }).code, Status.INTERNAL);
});

test('requests whose caller gave up while queued are dropped before dispatch', async (t) => {
  const { coalescer, batches } = echoCoalescer();
  const outcomes = await Promise.allSettled([
    submit(coalescer, ['late'], { deadline: new Date(Date.now() - 1) }),
    submit(coalescer, ['gone'], { call: Object.assign(new FakeCall(), { cancelled: true }) }),
    submit(coalescer, ['ok']),
  ]);
  t.is(((outcomes[0] as PromiseRejectedResult).reason as { code?: number }).code, Status.DEADLINE_EXCEEDED);
  t.is(((outcomes[1] as PromiseRejectedResult).reason as { code?: number }).code, Status.CANCELLED);
  t.deepEqual((outcomes[2] as PromiseFulfilledResult<string[]>).value, ['1:OK']);
  t.deepEqual(
    batches.map((batch) => batch.texts),
    [['ok']],
  );
});

test('the batch deadline is the latest of its requests', async (t) => {
  const { coalescer, batches } = echoCoalescer();
  const early = soon(5_000);
  const late = soon(60_000);
  await Promise.all([submit(coalescer, ['a'], { deadline: early }), submit(coalescer, ['b'], { deadline: late })]);
  t.is(batches[0]!.deadline.getTime(), late.getTime());
});

test('with maxDelayMs 0 the requests of one event-loop turn still merge', async (t) => {
  const { coalescer, batches } = echoCoalescer({ maxDelayMs: 0 });
  await Promise.all([submit(coalescer, ['a']), submit(coalescer, ['b'])]);
  t.is(batches.length, 1);
});

test('close fails waiting requests and refuses new ones', async (t) => {
  const hold = gate();
  const { coalescer } = echoCoalescer({
    maxInFlight: 1,
    execute: async (batch) => {
      await hold.wait();
      return batch.texts;
    },
  });
  const running = submit(coalescer, ['a']);
  while (hold.pending === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  const waiting = submit(coalescer, ['b']);
  coalescer.close(unavailable('stopping'));
  t.is(((await t.throwsAsync(waiting)) as { code?: number }).code, Status.UNAVAILABLE);
  t.is(((await t.throwsAsync(submit(coalescer, ['c']))) as { code?: number }).code, Status.UNAVAILABLE);
  hold.releaseAll();
  t.deepEqual(await running, ['a']);
});

test('a lone request goes downstream at the end of its event-loop turn, not after a timer', async (t) => {
  const { coalescer, batches, hold } = heldCoalescer();
  const answer = submit(coalescer, ['alone']);
  t.is(batches.length, 0);
  await nextTurn();
  t.deepEqual(
    batches.map((batch) => batch.texts),
    [['alone']],
  );
  hold.releaseAll();
  t.deepEqual(await answer, ['alone']);
});

test('a burst while a batch is in flight waits for it, then leaves as one batch without any timer', async (t) => {
  const { coalescer, batches, hold } = heldCoalescer({
    maxInFlight: 1,
    // A delay that would be noticed if it applied: requests that waited for a slot must not wait for it too.
    maxDelayMs: 60_000,
  });
  // With a free slot, maxDelayMs > 0 waits for company: flush the first batch out by filling it.
  const first = coalescer.submit({
    model: 'm',
    version: '1',
    texts: Array.from({ length: 256 }, (_, index) => `t${index}`),
    meta: { caller: 'big' },
    deadline: soon(),
  });
  t.is(batches.length, 1);
  const burst = [submit(coalescer, ['a']), submit(coalescer, ['b']), submit(coalescer, ['c'])];
  await nextTurn();
  t.is(batches.length, 1, 'nothing leaves while the only slot is busy');
  hold.releaseAll();
  await first;
  await nextTurn();
  t.deepEqual(batches[1]?.texts, ['a', 'b', 'c']);
  hold.releaseAll();
  t.deepEqual(await Promise.all(burst), [['a'], ['b'], ['c']]);
});

test('a caller that goes away while queued leaves the queue at once and is never sent', async (t) => {
  const { coalescer, batches, hold } = heldCoalescer({
    maxInFlight: 1,
  });
  const running = submit(coalescer, ['a']);
  await nextTurn();
  const call = new FakeCall();
  const leaving = submit(coalescer, ['gone', 'too'], { call });
  const staying = submit(coalescer, ['b']);
  t.deepEqual(coalescer.queueDepths(), [{ model: 'm', version: '1', texts: 3 }]);
  call.cancel();
  t.is(((await t.throwsAsync(leaving)) as { code?: number }).code, Status.CANCELLED);
  t.deepEqual(coalescer.queueDepths(), [{ model: 'm', version: '1', texts: 1 }]);
  hold.releaseAll();
  await running;
  await nextTurn();
  hold.releaseAll();
  t.deepEqual(await staying, ['b']);
  t.deepEqual(
    batches.map((batch) => batch.texts),
    [['a'], ['b']],
  );
});

test('a caller already gone when it submits is refused CANCELLED', async (t) => {
  const { coalescer, batches } = echoCoalescer();
  const error = await t.throwsAsync(submit(coalescer, ['x'], { call: Object.assign(new FakeCall(), { cancelled: true }) }));
  t.is((error as { code?: number }).code, Status.CANCELLED);
  t.is(batches.length, 0);
});

test('a lone request cancelled in flight cancels its batch downstream', async (t) => {
  const { coalescer, batches, hold } = heldCoalescer();
  const call = new FakeCall();
  const answer = submit(coalescer, ['a'], { call });
  await nextTurn();
  t.false(batches[0]!.signal.aborted);
  call.cancel();
  t.true(batches[0]!.signal.aborted);
  hold.releaseAll();
  await answer;
});

test('a merged batch is cancelled downstream only once every one of its callers is gone', async (t) => {
  const hold = gate();
  const { coalescer, batches } = echoCoalescer({
    execute: async (batch) => {
      batches.push(batch);
      await hold.wait();
      if (batch.signal.aborted) throw new Error('cancelled downstream');
      return batch.texts;
    },
  });
  const calls = [new FakeCall(), new FakeCall(), new FakeCall()];
  const answers = calls.map((call, index) => submit(coalescer, [`t${index}`], { call }));
  await nextTurn();
  t.is(batches.length, 1);
  t.is(batches[0]!.requests.length, 3);
  calls[0]!.cancel();
  calls[2]!.cancel();
  t.false(batches[0]!.signal.aborted, 'one caller is still waiting for its answer');
  hold.releaseAll();
  t.deepEqual(await answers[1], ['t1']);

  // The same again, with the last caller leaving too.
  const more = [new FakeCall(), new FakeCall()];
  const moreAnswers = more.map((call, index) => submit(coalescer, [`u${index}`], { call }));
  await nextTurn();
  more[0]!.cancel();
  more[1]!.cancel();
  t.true(batches[1]!.signal.aborted);
  hold.releaseAll();
  await Promise.allSettled(moreAnswers);
});

test('mixed deadlines: an expired request is dropped, the others go with the latest deadline', async (t) => {
  const { coalescer, batches, hold } = heldCoalescer({
    maxInFlight: 1,
  });
  const running = submit(coalescer, ['first']);
  await nextTurn();
  const late = soon(60_000);
  const queued = [
    submit(coalescer, ['expiring'], { deadline: new Date(Date.now() + 5) }),
    submit(coalescer, ['early'], { deadline: soon(20_000) }),
    submit(coalescer, ['late'], { deadline: late }),
  ];
  await new Promise((resolve) => setTimeout(resolve, 20));
  hold.releaseAll();
  await running;
  await nextTurn();
  hold.releaseAll();
  const [expired, early, lateAnswer] = await Promise.allSettled(queued);
  t.is(((expired as PromiseRejectedResult).reason as { code?: number }).code, Status.DEADLINE_EXCEEDED);
  t.deepEqual((early as PromiseFulfilledResult<string[]>).value, ['early']);
  t.deepEqual((lateAnswer as PromiseFulfilledResult<string[]>).value, ['late']);
  t.deepEqual(batches[1]!.texts, ['early', 'late']);
  t.is(batches[1]!.deadline.getTime(), late.getTime());
});

test('an answered caller stops listening for its cancellation', async (t) => {
  const { coalescer } = echoCoalescer();
  const call = new FakeCall();
  await submit(coalescer, ['a'], { call });
  t.is(call.listenerCount('cancelled'), 0);
});
