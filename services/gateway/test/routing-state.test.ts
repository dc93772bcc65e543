// RoutingState over a real ReadinessTracker whose probe answers from a set the test controls (as inference's
// ModelReady would): what a gateway does across a change of stable version.
import { Status } from '@maas/protos';
import { createLogger } from '@maas/shared';
import test from 'ava';
import { eventually } from '../../../test/support/eventually.js';
import { ReadinessTracker } from '../src/readiness.js';
import { buildRoutingTable, type VersionRef } from '../src/router.js';
import { RoutingState } from '../src/routing-state.js';
import { snapshot } from './helpers/routing-snapshots.js';

const logger = createLogger({ service: 'gateway-test', level: 'silent' });

/** A gateway's routing state and readiness; `loaded` is what inference has loaded (what ModelReady says). */
function gateway(t: import('ava').ExecutionContext) {
  const loaded = new Set<string>();
  const readiness = new ReadinessTracker({ probe: async (ref: VersionRef) => loaded.has(ref.version), pollIntervalMs: 20, probeTimeoutMs: 1_000, logger });
  t.teardown(() => readiness.stop());
  const routing = new RoutingState({ readiness, logger });
  let revision = 0;
  return {
    loaded,
    readiness,
    routing,
    /**
     * Applies a snapshot with this rollout of `sentiment`, as the gateway's onSnapshot does; `meanwhile` runs
     * right after the table is installed, before the readiness probes answer (requests keep coming then too).
     */
    async rollout(stable: string, canary = '', weight = 0, meanwhile?: () => void) {
      revision += 1;
      const applied = routing.apply(buildRoutingTable(snapshot([{ model: 'sentiment', versions: ['1', '2', '3'], stable, canary, weight }], revision)));
      meanwhile?.();
      await applied;
    },
    version: (key = 'k') => routing.route('sentiment', key).version,
    draining: () =>
      routing
        .routableVersions()
        .filter((entry) => entry.role === 'draining')
        .map((entry) => entry.version),
  };
}

test('a promote keeps traffic on the previous stable version until the new one is ready, then moves it for good', async (t) => {
  const g = gateway(t);
  g.loaded.add('1');
  await g.rollout('1');
  t.is(g.version(), '1');

  await g.rollout('2', '', 0, () => t.is(g.version(), '1', 'no gap while the probes are out'));
  t.is(g.version(), '1', 'version 2 is not ready: the stable share stays on 1');
  t.like(g.routing.route('sentiment', 'k'), { target: 'draining', fallback: true });
  t.deepEqual(g.routing.routableVersions(), [
    { model: 'sentiment', version: '2', role: 'stable', ready: false },
    { model: 'sentiment', version: '1', role: 'draining', ready: true },
  ]);
  // A resync of the same rollout changes nothing.
  await g.rollout('2');
  t.is(g.version(), '1');

  g.loaded.add('2');
  await eventually('version 2 to take the traffic', () => g.version() === '2');
  t.deepEqual(g.draining(), []);
  t.false(g.readiness.isTracked('sentiment', '1'), 'the drained version is no longer watched');
  // Once switched, a failure of the new version never sends traffic back to the drained one (inference unloads it).
  g.readiness.markNotReady({ model: 'sentiment', version: '2' }, 'test');
  t.is((t.throws(() => g.routing.route('sentiment', 'k')) as { code?: number }).code, Status.UNAVAILABLE);
});

test('a rollback to a version that was unloaded keeps traffic on the current one until it is loaded again', async (t) => {
  const g = gateway(t);
  g.loaded.add('2');
  await g.rollout('2');
  await g.rollout('1');
  t.is(g.version(), '2');
  t.deepEqual(g.draining(), ['2']);
  g.loaded.add('1');
  await eventually('version 1 to take the traffic', () => g.version() === '1');
  t.deepEqual(g.draining(), []);
});

test('stable changes in a row keep traffic on the last version that was ready, and never route to one that is not', async (t) => {
  const g = gateway(t);
  g.loaded.add('1');
  await g.rollout('1');
  await g.rollout('2');
  await g.rollout('3', '2', 50);
  t.deepEqual(g.draining(), ['1']);
  for (let index = 0; index < 50; index += 1) t.is(g.version(`user-${index}`), '1');

  // The draining version goes away before the new one is ready (inference restarted, say): no route to either.
  g.loaded.delete('1');
  g.readiness.markNotReady({ model: 'sentiment', version: '1' }, 'test');
  t.is((t.throws(() => g.routing.route('sentiment', 'k')) as { code?: number }).code, Status.UNAVAILABLE);

  // The canary loads first: it takes its share and, as before, backs the stable share while 3 is not ready.
  g.loaded.add('2');
  await eventually('the canary to be ready', () => g.readiness.isReady('sentiment', '2'));
  for (let index = 0; index < 50; index += 1) t.is(g.version(`user-${index}`), '2');
  t.deepEqual(g.draining(), ['1'], 'version 3 is not ready yet: the draining list stays');
  g.loaded.add('3');
  await eventually('version 3 to be ready', () => g.readiness.isReady('sentiment', '3'));
  t.deepEqual(g.draining(), []);
});

test('a rollback to the draining version while the new one loads keeps routing to it without a gap', async (t) => {
  const g = gateway(t);
  g.loaded.add('1');
  await g.rollout('1');
  await g.rollout('2');
  t.deepEqual(g.draining(), ['1']);
  await g.rollout('1', '', 0, () => t.is(g.version(), '1', 'version 1 keeps its readiness as it moves from draining to stable'));
  t.deepEqual(g.draining(), []);
  t.false(g.readiness.isTracked('sentiment', '2'));
});

test('a pinned version or alias bypasses the rollout, and only when ready; mirrorTarget names a ready canary', async (t) => {
  const loaded = new Set(['1', '2']);
  const readiness = new ReadinessTracker({ probe: async (ref: VersionRef) => loaded.has(ref.version), pollIntervalMs: 20, probeTimeoutMs: 1_000, logger });
  t.teardown(() => readiness.stop());
  const routing = new RoutingState({ readiness, logger });
  await routing.apply(
    buildRoutingTable(
      snapshot([
        { model: 'sentiment', versions: ['1', '2', '3', '4'], stable: '1', canary: '2', weight: 100, mirror: 30, aliases: { production: '1', next: '3' } },
      ]),
    ),
  );
  // Weight 100 sends everything to the canary; a pin still answers with what it names.
  t.like(routing.route('sentiment', 'k', 'production'), { version: '1', target: 'pinned', fallback: false });
  t.like(routing.route('sentiment', '', '1'), { version: '1', target: 'pinned' });
  t.is(routing.route('sentiment', 'k').version, '2');
  const notReady = t.throws(() => routing.route('sentiment', '', 'next'));
  t.is((notReady as { code?: number }).code, Status.UNAVAILABLE);
  t.is(notReady!.message, 'version "3" (alias "next") of model "sentiment" is not ready');
  t.is((t.throws(() => routing.route('sentiment', '', 'nope')) as { code?: number }).code, Status.NOT_FOUND);
  // A version nothing references is left to inference to answer for (it knows what it has loaded).
  t.like(routing.explicit({ model: 'sentiment', version: '4' }), { version: '4' });

  // What pickVersion decides for the stable share (weight 0 would draw it; here it is built from the pin's answer).
  const stableDecision = { ...routing.route('sentiment', 'k', 'production'), target: 'stable' as const };
  t.like(routing.mirrorTarget('sentiment', stableDecision), { version: '2', percent: 30 });
  t.is(routing.mirrorTarget('sentiment', { ...stableDecision, target: 'pinned' }), undefined);
  t.is(routing.mirrorTarget('sentiment', { ...stableDecision, fallback: true }), undefined);
  loaded.delete('2');
  readiness.markNotReady({ model: 'sentiment', version: '2' }, 'the test unloaded it');
  t.is(routing.mirrorTarget('sentiment', stableDecision), undefined);
});
