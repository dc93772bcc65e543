import { createLogger } from '@maas/shared';
import test from 'ava';
import { eventually } from '../../../test/support/eventually.js';
import { ReadinessTracker } from '../src/readiness.js';
import type { VersionRef } from '../src/router.js';

const logger = createLogger({ service: 'gateway-test', level: 'silent' });

/** Readiness as a test sets it; the tracker asks through the probe function as it would ask inference. */
function world() {
  const ready = new Set<string>();
  const asked: string[] = [];
  const probe = async (ref: VersionRef) => {
    asked.push(`${ref.model}/${ref.version}`);
    return ready.has(`${ref.model}/${ref.version}`);
  };
  return { ready, asked, probe };
}

test('a tracked version is not ready until inference says so, and is polled until it is', async (t) => {
  const { ready, asked, probe } = world();
  const tracker = new ReadinessTracker({ probe, pollIntervalMs: 50, probeTimeoutMs: 1_000, logger });
  t.teardown(() => tracker.stop());
  ready.add('m/1');
  await tracker.track([
    { model: 'm', version: '1' },
    { model: 'm', version: '2' },
  ]);
  t.true(tracker.isReady('m', '1'));
  t.false(tracker.isReady('m', '2'));
  t.false(tracker.isReady('m', '3'));

  ready.add('m/2');
  await eventually('version 2 to be ready', () => tracker.isReady('m', '2'), { timeoutMs: 5_000, intervalMs: 10 });
  t.true(tracker.isReady('m', '2'));
  t.true(asked.filter((entry) => entry === 'm/2').length >= 2);
});

test('a probe without an answer leaves readiness as it was: a new version stays not ready, a ready one keeps its traffic', async (t) => {
  let answer: () => Promise<boolean | undefined> = async () => Promise.reject(new Error('down'));
  const tracker = new ReadinessTracker({ probe: () => answer(), pollIntervalMs: 10_000, probeTimeoutMs: 1_000, logger });
  t.teardown(() => tracker.stop());
  await tracker.track([{ model: 'm', version: '1' }]);
  t.false(tracker.isReady('m', '1'), 'never answered: not ready');
  t.true(tracker.isTracked('m', '1'));
  answer = async () => true;
  await tracker.track([{ model: 'm', version: '1' }]);
  t.true(tracker.isReady('m', '1'));
  // A busy machine: the next snapshot's probe times out (rejects) or finds no replica answering (undefined).
  for (const silent of [async () => Promise.reject(new Error('deadline exceeded')), async () => undefined]) {
    answer = silent;
    await tracker.track([{ model: 'm', version: '1' }]);
    t.true(tracker.isReady('m', '1'), 'a slow probe does not take a loaded version out of routing');
  }
  // A real answer still counts.
  answer = async () => false;
  await tracker.track([{ model: 'm', version: '1' }]);
  t.false(tracker.isReady('m', '1'));
  await tracker.track([]);
  t.false(tracker.isTracked('m', '1'));
});

test('markNotReady stops routing until a probe says ready again', async (t) => {
  const { ready, probe } = world();
  ready.add('m/1');
  const tracker = new ReadinessTracker({ probe, pollIntervalMs: 10_000, probeTimeoutMs: 1_000, logger });
  t.teardown(() => tracker.stop());
  await tracker.track([{ model: 'm', version: '1' }]);
  t.true(tracker.isReady('m', '1'));
  tracker.markNotReady({ model: 'm', version: '1' }, 'inference: version not loaded');
  t.false(tracker.isReady('m', '1'));
  await tracker.track([{ model: 'm', version: '1' }]);
  t.true(tracker.isReady('m', '1'));
});

test('retained versions are tracked beside the referenced ones, keep their readiness, and listeners hear every change', async (t) => {
  const { ready, asked, probe } = world();
  const tracker = new ReadinessTracker({ probe, pollIntervalMs: 10_000, probeTimeoutMs: 1_000, logger });
  t.teardown(() => tracker.stop());
  const changes: string[] = [];
  tracker.onChange((ref, isReady) => changes.push(`${ref.model}/${ref.version}=${isReady}`));
  ready.add('m/1');
  await tracker.track([{ model: 'm', version: '1' }]);
  t.deepEqual(changes, ['m/1=true']);

  // The snapshot moves on to version 2, while version 1 is retained (draining): it stays tracked and ready.
  const askedBefore = asked.length;
  tracker.retain([{ model: 'm', version: '1' }]);
  t.is(asked.length, askedBefore, 'a version already tracked is not asked again on retain');
  await tracker.track([{ model: 'm', version: '2' }]);
  t.true(tracker.isReady('m', '1'));
  t.true(tracker.isTracked('m', '2'));

  tracker.retain([]);
  t.false(tracker.isTracked('m', '1'));
  t.true(tracker.isTracked('m', '2'));
  t.deepEqual(changes, ['m/1=true'], 'version 2 was never ready: no change yet');
  ready.add('m/2');
  await tracker.track([{ model: 'm', version: '2' }]);
  t.deepEqual(changes, ['m/1=true', 'm/2=true']);
});
