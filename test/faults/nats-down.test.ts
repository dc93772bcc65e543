// Fault: NATS goes away (kill -9 of a private nats-server) while the mesh runs on events with a 10-minute
// resync. A rollout change made right after must still reach the serving path within the no-NATS resync
// interval (+1 s): the consumers switch to that interval the moment the connection drops.
import { classify, registerPackage, setRollout } from '@maas/cli';
import test from 'ava';
import { eventually } from '../support/eventually.js';
import { examplePackage } from '../support/example-models.js';
import { startInProcessMesh } from '../support/in-process-mesh.js';
import { adminClient } from '../support/test-pki.js';
import { natsServerBinary, startPrivateNats } from '../support/private-nats.js';

const NO_NATS_INTERVAL_MS = 1_000;
const withNats = natsServerBinary ? test : test.skip;

withNats('NATS down: a rollout change propagates within the no-NATS resync interval (+1 s)', async (t) => {
  const nats = await startPrivateNats();
  t.teardown(() => nats.stop('SIGKILL'));
  const mesh = await startInProcessMesh({
    env: { NATS_URL: nats.url, RESYNC_INTERVAL_MS: '600000', RESYNC_INTERVAL_NO_NATS_MS: String(NO_NATS_INTERVAL_MS) },
    beforeConsumers: async (registryAddress) => {
      for (const version of ['1', '2']) await registerPackage({ client: adminClient(), registryAddress, packageDir: examplePackage('sentiment', version) });
      // Version 2 is loaded (a canary at weight 0) before the fault, so what is timed below is propagation alone.
      await setRollout({ client: adminClient(), registryAddress, model: 'sentiment', stableVersion: '1', canaryVersion: '2', canaryWeight: 0 });
    },
  });
  t.teardown(() => mesh.stop());
  const answering = async () =>
    (await classify({ client: adminClient(), gatewayAddress: mesh.addresses.gateway, model: 'sentiment', texts: ['propagation check'], timeoutMs: 5_000 }))
      .predictions[0]!.model_version;
  // All four services hold a NATS connection: the long timer is what they run on now.
  await eventually(
    'four NATS connections',
    async () => {
      const body = (await (await fetch(`${nats.monitorUrl}/connz`)).json()) as { num_connections: number };
      return body.num_connections >= 4;
    },
    { timeoutMs: 15_000, intervalMs: 100 },
  );
  t.is(await answering(), '1');

  await nats.stop('SIGKILL');
  const changedAt = Date.now();
  await setRollout({ client: adminClient(), registryAddress: mesh.addresses.registry, model: 'sentiment', stableVersion: '2' });
  let calls = 0;
  let failed = 0;
  await eventually(
    'version 2 answering',
    async () => {
      calls += 1;
      try {
        return (await answering()) === '2';
      } catch {
        failed += 1;
        return false;
      }
    },
    { timeoutMs: 20_000, intervalMs: 50 },
  );
  const tookMs = Date.now() - changedAt;
  t.log(`NATS killed; change served after ${tookMs} ms (no-NATS interval ${NO_NATS_INTERVAL_MS} ms); ${calls} calls meanwhile, ${failed} failed`);
  t.is(failed, 0);
  t.true(tookMs <= NO_NATS_INTERVAL_MS + 1_000, `took ${tookMs} ms`);
});
