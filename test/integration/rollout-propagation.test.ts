// How a rollout change reaches the serving path: by NATS events (fast path) and, with NATS gone, by resync alone.
import { classify, registerPackage, setRollout } from '@maas/cli';
import test from 'ava';
import { examplePackage } from '../support/example-models.js';
import { startInProcessMesh, type InProcessMesh } from '../support/in-process-mesh.js';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** Classifies until the answering version is `version` or the time is up; returns how long that took. */
async function waitForVersion(mesh: InProcessMesh, version: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  let last = '';
  while (Date.now() - started < timeoutMs) {
    try {
      const response = await classify({ gatewayAddress: mesh.addresses.gateway, model: 'sentiment', texts: ['propagation check'], timeoutMs: 5_000 });
      last = response.predictions[0]!.model_version;
      if (last === version) return Date.now() - started;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`version ${version} did not answer within ${timeoutMs} ms (last: ${last})`);
}

async function registerBoth(mesh: InProcessMesh): Promise<void> {
  for (const version of ['1', '2']) await registerPackage({ registryAddress: mesh.addresses.registry, packageDir: examplePackage('sentiment', version) });
}

test.serial('with NATS, rollout changes propagate by events long before any resync', async (t) => {
  // A ten-minute resync: only events can move the mesh within the test's time.
  const mesh = await startInProcessMesh({ NATS_URL, RESYNC_INTERVAL_MS: '600000', RESYNC_INTERVAL_NO_NATS_MS: '600000' });
  t.teardown(() => mesh.stop());
  // Services connect to NATS in the background; let the consumers exist before the first event.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  await registerBoth(mesh);
  await setRollout({ registryAddress: mesh.addresses.registry, model: 'sentiment', stableVersion: '1' });
  const first = await waitForVersion(mesh, '1', 20_000);
  await setRollout({ registryAddress: mesh.addresses.registry, model: 'sentiment', stableVersion: '2' });
  const second = await waitForVersion(mesh, '2', 20_000);
  t.log(`stable 1 served after ${first} ms, stable 2 after ${second} ms`);
  t.pass();
});

test.serial('without NATS the mesh follows the registry by resync alone', async (t) => {
  const mesh = await startInProcessMesh({ NATS_URL: 'nats://127.0.0.1:1', RESYNC_INTERVAL_MS: '600000', RESYNC_INTERVAL_NO_NATS_MS: '300' });
  t.teardown(() => mesh.stop());
  await registerBoth(mesh);
  await setRollout({ registryAddress: mesh.addresses.registry, model: 'sentiment', stableVersion: '2' });
  await waitForVersion(mesh, '2', 20_000);
  await setRollout({ registryAddress: mesh.addresses.registry, model: 'sentiment', stableVersion: '1', canaryVersion: '2', canaryWeight: 100 });
  await waitForVersion(mesh, '2', 20_000);
  await setRollout({ registryAddress: mesh.addresses.registry, model: 'sentiment', stableVersion: '1' });
  const rolledBack = await waitForVersion(mesh, '1', 20_000);
  t.log(`rollback served after ${rolledBack} ms`);
  t.pass();
});
