import { ConfigError, configReader } from '@maas/shared';
import test from 'ava';
import { registryConsumerConfig } from '../src/registry-consumer-config.js';

test('registry-consumer settings default to the local registry and the resync periods', (t) => {
  const reader = configReader({});
  t.deepEqual(reader.done(registryConsumerConfig(reader)), { registryAddress: '127.0.0.1:50054', resyncIntervalMs: 30_000, resyncIntervalNoNatsMs: 2_000 });
});

test('a bad resync period is reported with the other problems', (t) => {
  const reader = configReader({ RESYNC_INTERVAL_MS: '1.5', RESYNC_INTERVAL_NO_NATS_MS: '50' });
  const config = registryConsumerConfig(reader);
  const error = t.throws(() => reader.done(config), { instanceOf: ConfigError });
  t.deepEqual(
    (error as ConfigError).problems.map((problem) => problem.split('=')[0]),
    ['RESYNC_INTERVAL_MS', 'RESYNC_INTERVAL_NO_NATS_MS'],
  );
});
