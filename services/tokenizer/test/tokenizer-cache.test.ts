import test from 'ava';
import { Registry } from 'prom-client';
import { createLogger } from '@maas/shared';
import { TokenizerCache, versionsInRollouts, type VersionKey } from '../src/tokenizer-cache.js';
import type { LoadedTokenizer } from '../src/tokenizer-loader.js';
import { createTokenizerMetrics } from '../src/tokenizer-metrics.js';

const logger = createLogger({ service: 'tokenizer-test', level: 'silent' });

/** A cache whose loads are counted and released by hand, with a clock the test moves. */
function harness(options: { maxLoaded?: number; idleUnloadMs?: number; fail?: (key: VersionKey) => boolean } = {}) {
  const loads: VersionKey[] = [];
  let clock = 1_000_000;
  const metrics = createTokenizerMetrics(new Registry());
  const cache = new TokenizerCache({
    load: async (key) => {
      loads.push(key);
      await new Promise((resolve) => setImmediate(resolve));
      if (options.fail?.(key)) throw new Error(`cannot load ${key.model}/${key.version}`);
      return { ...key, tokenizer: { kind: 'keras', prefixIds: [], suffixIds: [], contentIds: () => [] }, layout: {} } as unknown as LoadedTokenizer;
    },
    maxLoaded: options.maxLoaded ?? 10,
    idleUnloadMs: options.idleUnloadMs ?? 60_000,
    logger,
    metrics,
    now: () => clock,
  });
  return { cache, loads, metrics, advance: (ms: number) => (clock += ms) };
}

test('concurrent first requests share one load', async (t) => {
  const { cache, loads } = harness();
  const [a, b] = await Promise.all([cache.get({ model: 'm', version: '1' }), cache.get({ model: 'm', version: '1' })]);
  t.is(a, b);
  t.is(loads.length, 1);
  t.true(cache.isLoaded({ model: 'm', version: '1' }));
  cache.close();
});

test('a failed load is remembered for a backoff that doubles, then the next request loads again', async (t) => {
  let failing = true;
  const { cache, loads, advance } = harness({ fail: () => failing });
  const key = { model: 'm', version: '1' };
  await t.throwsAsync(cache.get(key), { message: 'cannot load m/1' });
  // Within the backoff (1 s): the remembered error, no new download, however many requests.
  for (let i = 0; i < 5; i++) await t.throwsAsync(cache.get(key), { message: 'cannot load m/1' });
  t.is(loads.length, 1);
  advance(1_000);
  await t.throwsAsync(cache.get(key));
  t.is(loads.length, 2);
  // Second failure in a row: 2 s.
  advance(1_500);
  await t.throwsAsync(cache.get(key));
  t.is(loads.length, 2);
  failing = false;
  advance(500);
  await t.notThrowsAsync(cache.get(key));
  t.is(loads.length, 3);
  cache.close();
});

test('over the cap the least recently used unpinned tokenizer goes; pinned ones stay', async (t) => {
  const { cache, metrics } = harness({ maxLoaded: 2 });
  await cache.pin([{ model: 'p', version: '1' }]);
  await cache.get({ model: 'a', version: '1' });
  await cache.get({ model: 'b', version: '1' });
  t.false(cache.isLoaded({ model: 'a', version: '1' }), 'a was least recently used');
  t.true(cache.isLoaded({ model: 'b', version: '1' }));
  t.true(cache.isLoaded({ model: 'p', version: '1' }), 'pinned survives although older');
  t.is((await metrics.loadedTokenizers.get()).values[0]!.value, 2);
  cache.close();
});

test('rollout versions are kept even beyond the cap', async (t) => {
  const { cache } = harness({ maxLoaded: 1 });
  const result = await cache.pin([
    { model: 'a', version: '1' },
    { model: 'a', version: '2' },
  ]);
  t.deepEqual(result, { loaded: 2, failed: 0 });
  t.is(cache.loadedCount, 2);
  cache.close();
});

test('pin reports failures without throwing; unpinned tokenizers unload when idle', async (t) => {
  const { cache, advance } = harness({ idleUnloadMs: 1_000, fail: (key) => key.version === 'bad' });
  t.deepEqual(
    await cache.pin([
      { model: 'a', version: '1' },
      { model: 'a', version: 'bad' },
    ]),
    { loaded: 1, failed: 1 },
  );
  await cache.get({ model: 'b', version: '1' });
  advance(500);
  cache.sweep();
  t.true(cache.isLoaded({ model: 'b', version: '1' }));
  advance(600);
  cache.sweep();
  t.false(cache.isLoaded({ model: 'b', version: '1' }), 'idle and unpinned');
  t.true(cache.isLoaded({ model: 'a', version: '1' }), 'pinned, however idle');
  // The rollout moves on: a/1 is no longer referenced and goes at the next sweep.
  await cache.pin([]);
  t.false(cache.isLoaded({ model: 'a', version: '1' }));
  cache.close();
});

test('versionsInRollouts lists stable, canary and aliased versions', (t) => {
  const rollout = (stable: string, canary: string) => ({
    model: '',
    stable_version: stable,
    canary_version: canary,
    canary_weight: 0,
    mirror_percent: 0,
    revision: 0,
    updated_at: '',
  });
  const versions = (model: string, labels: string[]) =>
    labels.map((version) => ({ model, version, manifest: null, artifacts: [], created_at: '', revision: 1 }));
  t.deepEqual(
    versionsInRollouts({
      revision: 3,
      models: [
        { name: 'a', versions: versions('a', ['1', '2']), rollout: rollout('1', '2'), aliases: [] },
        { name: 'b', versions: versions('b', ['1']), rollout: rollout('', ''), aliases: [] },
        { name: 'c', versions: versions('c', ['7', '8']), rollout: rollout('7', ''), aliases: [{ name: 'next', version: '8', revision: 3, updated_at: '' }] },
      ],
    }),
    [
      { model: 'a', version: '1' },
      { model: 'a', version: '2' },
      { model: 'c', version: '7' },
      { model: 'c', version: '8' },
    ],
  );
});
