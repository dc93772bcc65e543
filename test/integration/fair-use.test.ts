// Per-caller limits at the gateway under load, on the real mesh: a noisy caller with 32 calls in flight is held
// to its rate and concurrency, gets RESOURCE_EXHAUSTED with a retry hint, and a quiet caller is not starved.
import * as grpc from '@grpc/grpc-js';
import { registerPackage, setRollout } from '@maas/cli';
import { contracts, Status, type ClassifyResponse__Output } from '@maas/protos';
import { createApiKey, createClient, unaryCall } from '@maas/shared';
import test from 'ava';
import { examplePackage } from '../support/example-models.js';
import { startInProcessMesh } from '../support/in-process-mesh.js';
import { adminClient, testPki } from '../support/test-pki.js';

const RATE = 100;
const BURST = 20;
const CONCURRENT = 2;
const RUN_MS = 2_000;

test('one noisy caller cannot starve another: limits per caller, RESOURCE_EXHAUSTED with retry-after-ms', async (t) => {
  const pki = await testPki();
  const noisyKey = createApiKey(pki.apiKeysFile, { owner: 'noisy', scopes: ['classify:*'] }).token;
  const quietKey = createApiKey(pki.apiKeysFile, { owner: 'quiet', scopes: ['classify:*'] }).token;
  const mesh = await startInProcessMesh({
    env: { NATS_URL: 'nats://127.0.0.1:1', RESYNC_INTERVAL_NO_NATS_MS: '150' },
    // The shared queue holds 4 calls of 16 texts: without per-caller caps the noisy caller's 32 calls in flight
    // fill it and the quiet caller gets RESOURCE_EXHAUSTED (what the issue measured); with them it never does.
    serviceEnv: {
      gateway: {
        RATE_LIMIT_RPS: String(RATE),
        RATE_LIMIT_BURST: String(BURST),
        MAX_CONCURRENT_PER_CALLER: String(CONCURRENT),
        MAX_QUEUE_TEXTS: '64',
        MAX_BATCH_TEXTS: '32',
        COALESCE_MAX_TEXTS: '32',
      },
    },
    beforeConsumers: async (registryAddress) => {
      await registerPackage({ client: adminClient(), registryAddress, packageDir: examplePackage('sentiment', '1') });
      await setRollout({ client: adminClient(), registryAddress, model: 'sentiment', stableVersion: '1' });
    },
  });
  t.teardown(() => mesh.stop());
  const clientOf = (token: string) => createClient(contracts().maas.v1.Gateway, mesh.addresses.gateway, mesh.clientOptions('admin', token));
  const noisy = clientOf(noisyKey);
  const quiet = clientOf(quietKey);
  t.teardown(() => (noisy.close(), quiet.close()));
  const texts = Array.from({ length: 16 }, (_, index) => `a text about a film, number ${index}`);
  const call = (client: typeof noisy) =>
    unaryCall<object, ClassifyResponse__Output>((r, md, o, cb) => client.Classify(r, md, o, cb), { model: 'sentiment', texts }, { deadline: 10_000 });

  const end = Date.now() + RUN_MS;
  const noisyTally = { ok: 0, limited: 0, other: 0, retryHints: new Set<string>(), messages: new Set<string>() };
  const quietTally = { ok: 0, failed: [] as string[] };
  const noisyLoop = async () => {
    while (Date.now() < end) {
      try {
        await call(noisy);
        noisyTally.ok++;
      } catch (error) {
        const failure = error as grpc.ServiceError;
        if (failure.code !== Status.RESOURCE_EXHAUSTED) {
          noisyTally.other++;
          continue;
        }
        noisyTally.limited++;
        noisyTally.messages.add(failure.details.replace(/\d+ ms/, 'N ms'));
        const hint = failure.metadata.get('retry-after-ms')[0];
        if (hint !== undefined) noisyTally.retryHints.add(String(hint));
        // Not a spin: the test's clients share this process's CPU with the mesh.
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  };
  const quietLoop = async () => {
    while (Date.now() < end) {
      await call(quiet).then(
        () => quietTally.ok++,
        (error: grpc.ServiceError) => quietTally.failed.push(`${Status[error.code]}: ${error.details}`),
      );
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  await Promise.all([...Array.from({ length: 32 }, noisyLoop), quietLoop()]);
  t.log(
    `noisy: ${noisyTally.ok} ok, ${noisyTally.limited} RESOURCE_EXHAUSTED, ${noisyTally.other} other; quiet: ${quietTally.ok} ok, ${quietTally.failed.length} failed`,
  );

  t.deepEqual(quietTally.failed, [], 'the quiet caller never failed');
  t.true(quietTally.ok >= 3, `the quiet caller kept being served (${quietTally.ok} calls)`);
  t.is(noisyTally.other, 0);
  t.true(noisyTally.limited > 0, 'the noisy caller was limited');
  // Its admitted calls stay within burst + rate × time (plus one second of slack for a slow machine).
  t.true(noisyTally.ok <= BURST + RATE * (RUN_MS / 1000 + 1), `noisy admitted ${noisyTally.ok}`);
  t.true(
    noisyTally.retryHints.size > 0 && [...noisyTally.retryHints].every((hint) => /^\d+$/.test(hint) && Number(hint) > 0),
    'every refusal has a retry-after-ms trailer',
  );
  t.true(
    [...noisyTally.messages].some((message) => /retry after/.test(message)),
    [...noisyTally.messages].join('; '),
  );
});
