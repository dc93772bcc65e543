import { Status } from '@maas/protos';
import test from 'ava';
import {
  buildRoutingTable,
  drainingVersions,
  isReferenced,
  pickVersion,
  referencedVersions,
  resolvePin,
  stickyBucket,
  type RoutingTable,
} from '../src/router.js';
import { snapshot } from './helpers/routing-snapshots.js';

const canaryTable = (weight: number): RoutingTable =>
  buildRoutingTable(snapshot([{ model: 'sentiment', versions: ['1', '2'], stable: '1', canary: '2', weight }]));
const allReady = () => true;
const keys = (count: number) => Array.from({ length: count }, (_, index) => `user-${index}`);

test('buildRoutingTable keeps rollouts and manifests; referencedVersions lists stable and canary', (t) => {
  const table = buildRoutingTable(
    snapshot([
      { model: 'sentiment', versions: ['1', '2', '3'], stable: '1', canary: '2', weight: 10 },
      { model: 'spam', versions: ['1'] },
    ]),
  );
  t.is(table.revision, 7);
  t.deepEqual(table.models.get('sentiment')?.canaryWeight, 10);
  t.is(table.models.get('sentiment')?.manifests.size, 3);
  t.deepEqual(referencedVersions(table), [
    { model: 'sentiment', version: '1' },
    { model: 'sentiment', version: '2' },
  ]);
  t.true(isReferenced(table, { model: 'sentiment', version: '2' }));
  t.false(isReferenced(table, { model: 'sentiment', version: '3' }));
});

test('stickyBucket is deterministic, within 0..99 and depends on the canary version', (t) => {
  for (const key of keys(200)) {
    const bucket = stickyBucket(key, 'sentiment', '2');
    t.true(Number.isInteger(bucket) && bucket >= 0 && bucket < 100);
    t.is(stickyBucket(key, 'sentiment', '2'), bucket);
  }
  const moved = keys(200).filter((key) => stickyBucket(key, 'sentiment', '2') !== stickyBucket(key, 'sentiment', '3')).length;
  t.true(moved > 150, `a new canary should reshuffle cohorts, only ${moved}/200 keys moved`);
});

test('the same routing key always gets the same version for a rollout', (t) => {
  const table = canaryTable(30);
  for (const key of keys(100)) {
    const first = pickVersion(table, { model: 'sentiment', routingKey: key, isReady: allReady }).version;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      t.is(pickVersion(table, { model: 'sentiment', routingKey: key, isReady: allReady, random: Math.random }).version, first);
    }
  }
});

test('different keys spread by the canary weight', (t) => {
  for (const weight of [0, 5, 20, 50, 90, 100]) {
    const table = canaryTable(weight);
    const canary = keys(10_000).filter((key) => pickVersion(table, { model: 'sentiment', routingKey: key, isReady: allReady }).version === '2').length;
    const percent = canary / 100;
    t.true(Math.abs(percent - weight) <= 2, `weight ${weight}: ${percent}% of keys went to the canary`);
  }
});

test('raising the weight only adds keys to the canary', (t) => {
  const low = canaryTable(10);
  const high = canaryTable(60);
  for (const key of keys(2_000)) {
    if (pickVersion(low, { model: 'sentiment', routingKey: key, isReady: allReady }).version === '2') {
      t.is(pickVersion(high, { model: 'sentiment', routingKey: key, isReady: allReady }).version, '2');
    }
  }
});

test('without a key the draw follows the weight', (t) => {
  const table = canaryTable(25);
  t.is(pickVersion(table, { model: 'sentiment', isReady: allReady, random: () => 0.24 }).version, '2');
  t.is(pickVersion(table, { model: 'sentiment', isReady: allReady, random: () => 0.25 }).version, '1');
  t.is(pickVersion(table, { model: 'sentiment', routingKey: '', isReady: allReady, random: () => 0.9 }).target, 'stable');
});

test('never routes to a version that is not ready', (t) => {
  const table = canaryTable(50);
  const onlyStable = (_model: string, version: string) => version === '1';
  const onlyCanary = (_model: string, version: string) => version === '2';
  for (const key of keys(500)) {
    const toStable = pickVersion(table, { model: 'sentiment', routingKey: key, isReady: onlyStable });
    t.is(toStable.version, '1');
    const toCanary = pickVersion(table, { model: 'sentiment', routingKey: key, isReady: onlyCanary });
    t.is(toCanary.version, '2');
    t.is(toCanary.fallback, stickyBucket(key, 'sentiment', '2') >= 50);
  }
  const error = t.throws(() => pickVersion(table, { model: 'sentiment', routingKey: 'k', isReady: () => false }));
  t.is((error as { code?: number }).code, Status.UNAVAILABLE);
  t.regex(error!.message, /no ready version of model "sentiment"/);
});

test('a canary at weight 0 gets no traffic but still backs a stable that is not ready', (t) => {
  const table = canaryTable(0);
  for (const key of keys(300)) t.is(pickVersion(table, { model: 'sentiment', routingKey: key, isReady: allReady }).version, '1');
  t.is(pickVersion(table, { model: 'sentiment', isReady: (_m, v) => v === '2' }).version, '2');
});

test('unknown model is NOT_FOUND, a model without rollout FAILED_PRECONDITION', (t) => {
  const table = buildRoutingTable(snapshot([{ model: 'spam', versions: ['1'] }]));
  t.is((t.throws(() => pickVersion(table, { model: 'nope', isReady: allReady })) as { code?: number }).code, Status.NOT_FOUND);
  const noRollout = t.throws(() => pickVersion(table, { model: 'spam', isReady: allReady })) as { code?: number; message?: string };
  t.is(noRollout.code, Status.FAILED_PRECONDITION);
  // The user's next step is a command, not an RPC name.
  t.is(noRollout.message, 'model "spam" has no rollout; set one with: maasctl rollout spam --stable VERSION');
});

test('resolvePin answers a version label or an alias with its manifest, or NOT_FOUND', (t) => {
  const table = buildRoutingTable(
    snapshot([{ model: 'sentiment', versions: ['1', '2', '3'], stable: '1', canary: '2', weight: 10, aliases: { production: '1', champion: '3' } }]),
  );
  t.like(resolvePin(table, { model: 'sentiment', version: '2' }), { version: '2', manifest: { version: '2' } });
  t.like(resolvePin(table, { model: 'sentiment', version: 'champion' }), { version: '3', manifest: { version: '3' } });
  const unknown = t.throws(() => resolvePin(table, { model: 'sentiment', version: 'staging' }));
  t.is((unknown as { code?: number }).code, Status.NOT_FOUND);
  t.is(unknown!.message, 'model "sentiment" has no version or alias "staging"');
  t.is((t.throws(() => resolvePin(table, { model: 'sentiment', version: '9' })) as { code?: number }).code, Status.NOT_FOUND);
  t.is((t.throws(() => resolvePin(table, { model: 'other', version: '1' })) as { code?: number }).code, Status.NOT_FOUND);
  // An aliased version is served: tracked for readiness like the rollout's, each version once.
  t.deepEqual(
    referencedVersions(table).map((ref) => ref.version),
    ['1', '2', '3'],
  );
  t.true(isReferenced(table, { model: 'sentiment', version: '3' }));
});

test('the mirror share is kept only with a canary, within 0..100', (t) => {
  const mirrored = buildRoutingTable(
    snapshot([
      { model: 'a', versions: ['1', '2'], stable: '1', canary: '2', weight: 0, mirror: 150 },
      { model: 'b', versions: ['1'], stable: '1', mirror: 20 },
    ]),
  );
  t.is(mirrored.models.get('a')?.mirrorPercent, 100);
  t.is(mirrored.models.get('b')?.mirrorPercent, 0);
});

/** sentiment with versions 1–4 and the given rollout. */
const rolloutTable = (stable: string, canary = '', weight = 0): RoutingTable =>
  buildRoutingTable(snapshot([{ model: 'sentiment', versions: ['1', '2', '3', '4'], stable, canary, weight }]));
const readyOnly =
  (...versions: string[]) =>
  (_model: string, version: string) =>
    versions.includes(version);

test('while the new stable version is not ready, its share stays on the first ready draining version', (t) => {
  const table = rolloutTable('2');
  const decide = (isReady: (model: string, version: string) => boolean) =>
    pickVersion(table, { model: 'sentiment', routingKey: 'k', isReady, draining: ['3', '1'] });
  t.like(decide(readyOnly('1')), { version: '1', target: 'draining', fallback: true });
  t.like(decide(readyOnly('1', '3')), { version: '3', target: 'draining', fallback: true });
  t.like(decide(readyOnly('1', '2', '3')), { version: '2', target: 'stable', fallback: false });
  const error = t.throws(() => decide(readyOnly('4')));
  t.is((error as { code?: number }).code, Status.UNAVAILABLE);
  t.regex(error!.message, /draining 3, 1/);
});

test('a canary that is not ready sends its share where the stable share goes, draining versions included', (t) => {
  const table = rolloutTable('2', '3', 50);
  for (const key of keys(200)) {
    const toCanary = stickyBucket(key, 'sentiment', '3') < 50;
    t.is(pickVersion(table, { model: 'sentiment', routingKey: key, isReady: readyOnly('1'), draining: ['1'] }).version, '1');
    t.is(pickVersion(table, { model: 'sentiment', routingKey: key, isReady: readyOnly('1', '3'), draining: ['1'] }).version, toCanary ? '3' : '1');
  }
});

test('no routing decision ever names a version that is not ready', (t) => {
  const versions = ['1', '2', '3', '4'];
  const tables = [rolloutTable('2'), rolloutTable('2', '3', 30), rolloutTable('2', '3', 100), rolloutTable('1', '2', 0)];
  const drainingLists = [[], ['1'], ['4', '1']];
  // Every subset of ready versions, for every rollout and draining list.
  for (let mask = 0; mask < 1 << versions.length; mask += 1) {
    const ready = versions.filter((_, index) => mask & (1 << index));
    for (const table of tables) {
      const route = table.models.get('sentiment')!;
      for (const draining of drainingLists) {
        const candidates = [route.stable, route.canary, ...draining].filter(Boolean);
        for (const key of keys(20)) {
          const request = { model: 'sentiment', routingKey: key, isReady: readyOnly(...ready), draining };
          if (candidates.some((version) => ready.includes(version))) {
            const decision = pickVersion(table, request);
            t.true(ready.includes(decision.version), `routed to ${decision.version}, ready: ${ready.join(',')}`);
          } else {
            t.is((t.throws(() => pickVersion(table, request)) as { code?: number }).code, Status.UNAVAILABLE);
          }
        }
      }
    }
  }
});

test('drainingVersions keeps what served the stable share until the new stable version is ready', (t) => {
  const route = (table: RoutingTable) => table.models.get('sentiment')!;
  const carry = (previous: RoutingTable | undefined, next: RoutingTable, options: { previousDraining?: string[]; ready?: string[] } = {}) =>
    drainingVersions({
      previous: previous && route(previous),
      previousDraining: options.previousDraining ?? [],
      next: route(next),
      isReady: readyOnly(...(options.ready ?? [])),
    });

  // Promote 1 → 2 while 2 loads: 1 keeps the traffic; once 2 is ready there is nothing to carry.
  t.deepEqual(carry(rolloutTable('1'), rolloutTable('2'), { ready: ['1'] }), ['1']);
  t.deepEqual(carry(rolloutTable('1'), rolloutTable('2'), { ready: ['1', '2'] }), []);
  // A gateway that just started has no earlier rollout to carry.
  t.deepEqual(carry(undefined, rolloutTable('2')), []);
  // Most recent first: the old stable, the versions draining then, then the old canary (pickVersion's order).
  t.deepEqual(carry(rolloutTable('1', '2', 10), rolloutTable('3'), { previousDraining: ['4'] }), ['1', '4', '2']);
  // A resync of the same rollout, or a canary change, keeps the list while the stable version is not ready.
  t.deepEqual(carry(rolloutTable('2'), rolloutTable('2'), { previousDraining: ['1'] }), ['1']);
  t.deepEqual(carry(rolloutTable('2'), rolloutTable('2', '3', 5), { previousDraining: ['1'] }), ['1']);
  // Never a version the new rollout routes to by its own role, nor one listed twice.
  t.deepEqual(carry(rolloutTable('1', '2', 10), rolloutTable('2', '1', 10)), []);
  t.deepEqual(carry(rolloutTable('1'), rolloutTable('3'), { previousDraining: ['1'] }), ['1']);
  // Nor one the registry no longer lists.
  const gone = buildRoutingTable(snapshot([{ model: 'sentiment', versions: ['2', '3'], stable: '3' }]));
  t.deepEqual(carry(rolloutTable('1'), gone, { previousDraining: ['2'] }), ['2']);
});
