// How a rollout change reaches the serving path: by NATS events (fast path) and, with NATS gone, by resync alone.
import { classify, registerPackage, setAlias, setRollout } from '@maas/cli';
import test from 'ava';
import { eventually } from '../support/eventually.js';
import { examplePackage } from '../support/example-models.js';
import { startInProcessMesh, type InProcessMesh } from '../support/in-process-mesh.js';
import { adminClient } from '../support/test-pki.js';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** Classifies until the answering version is `version`; throws when it is not within `timeoutMs`. Returns how long that took. */
async function waitForVersion(mesh: InProcessMesh, version: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  await eventually(
    `version ${version} answering`,
    async () =>
      (
        await classify({
          client: mesh.clientOptions(),
          gatewayAddress: mesh.addresses.gateway,
          model: 'sentiment',
          texts: ['propagation check'],
          timeoutMs: 5_000,
        })
      ).predictions[0]!.model_version === version,
    { timeoutMs, intervalMs: 100 },
  );
  return Date.now() - started;
}

/** The version the gateway answers with now. */
async function answeringVersion(mesh: InProcessMesh): Promise<string> {
  return (
    await classify({ client: mesh.clientOptions(), gatewayAddress: mesh.addresses.gateway, model: 'sentiment', texts: ['propagation check'], timeoutMs: 5_000 })
  ).predictions[0]!.model_version;
}

async function registerBoth(mesh: InProcessMesh): Promise<void> {
  for (const version of ['1', '2'])
    await registerPackage({ client: adminClient(), registryAddress: mesh.addresses.registry, packageDir: examplePackage('sentiment', version) });
}

test.serial('with NATS, rollout changes propagate by events long before any resync', async (t) => {
  // A ten-minute resync: only events can move the mesh within the test's time.
  const mesh = await startInProcessMesh({ env: { NATS_URL, RESYNC_INTERVAL_MS: '600000', RESYNC_INTERVAL_NO_NATS_MS: '600000' } });
  t.teardown(() => mesh.stop());
  await registerBoth(mesh);
  // The services connect to NATS in the background, and an event published before their consumers exist is
  // not delivered to them: repeat the (idempotent) first change until one of its events got through.
  const first = await eventually(
    'a first rollout event reaching the mesh',
    async () => {
      await setRollout({
        client: adminClient(),
        registryAddress: mesh.addresses.registry,
        model: 'sentiment',
        stableVersion: '1',
        canaryVersion: '2',
        canaryWeight: 0,
      });
      await setRollout({ client: adminClient(), registryAddress: mesh.addresses.registry, model: 'sentiment', stableVersion: '1' });
      return waitForVersion(mesh, '1', 1_000).catch(() => false);
    },
    { timeoutMs: 20_000 },
  );
  await setRollout({ client: adminClient(), registryAddress: mesh.addresses.registry, model: 'sentiment', stableVersion: '2' });
  const second = await waitForVersion(mesh, '2', 20_000);
  t.is(await answeringVersion(mesh), '2');
  t.log(`stable 1 served after ${first} ms, stable 2 after ${second} ms`);

  // Alias changes are events too: a pin on the alias follows each move (and the alias alone keeps 1 served).
  const pinned = async () =>
    (
      await classify({
        client: mesh.clientOptions(),
        gatewayAddress: mesh.addresses.gateway,
        model: 'sentiment',
        texts: ['alias check'],
        version: 'production',
        timeoutMs: 5_000,
      })
    ).predictions[0]!.model_version;
  const answersWith = (version: string) =>
    eventually(`production answering with ${version}`, async () => (await pinned().catch(() => '')) === version, { timeoutMs: 20_000, intervalMs: 100 });
  await setAlias({ client: adminClient(), registryAddress: mesh.addresses.registry, model: 'sentiment', alias: 'production', version: '1' });
  t.true(await answersWith('1'));
  await setAlias({ client: adminClient(), registryAddress: mesh.addresses.registry, model: 'sentiment', alias: 'production', version: '2' });
  t.true(await answersWith('2'));
  t.is(await answeringVersion(mesh), '2');
});

test.serial('without NATS the mesh follows the registry by resync alone', async (t) => {
  const mesh = await startInProcessMesh({ env: { NATS_URL: 'nats://127.0.0.1:1', RESYNC_INTERVAL_MS: '600000', RESYNC_INTERVAL_NO_NATS_MS: '300' } });
  t.teardown(() => mesh.stop());
  await registerBoth(mesh);
  await setRollout({ client: adminClient(), registryAddress: mesh.addresses.registry, model: 'sentiment', stableVersion: '2' });
  await waitForVersion(mesh, '2', 20_000);
  await setRollout({
    client: adminClient(),
    registryAddress: mesh.addresses.registry,
    model: 'sentiment',
    stableVersion: '1',
    canaryVersion: '2',
    canaryWeight: 100,
  });
  await waitForVersion(mesh, '2', 20_000);
  await setRollout({ client: adminClient(), registryAddress: mesh.addresses.registry, model: 'sentiment', stableVersion: '1' });
  const rolledBack = await waitForVersion(mesh, '1', 20_000);
  t.is(await answeringVersion(mesh), '1');
  t.log(`rollback served after ${rolledBack} ms`);
});
