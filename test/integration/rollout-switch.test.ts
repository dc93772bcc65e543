// A change of stable version under load never fails a call: the real registry, tokenizer, inference and
// gateway in this process on port 0 (no NATS: they follow the registry by resync), with Classify calls running
// in a loop while the stable version of `sentiment` moves 1 → 2 (promote) and back (rollback). The version
// switched to is not loaded when the switch happens, so until it is, its traffic must stay on the old one.
import { registerPackage, setRollout } from '@maas/cli';
import type { RunningGatewayService } from '@maas/gateway';
import type { RunningInferenceService } from '@maas/inference';
import { contracts, Status, type ClassifyResponse__Output, type GatewayClient, type GRPCInferenceServiceClient } from '@maas/protos';
import { createClient, unaryCall } from '@maas/shared';
import anyTest, { type TestFn } from 'ava';
import { eventually as eventuallyWithin } from '../support/eventually.js';
import { examplePackage } from '../support/example-models.js';
import { startInProcessMesh, type InProcessMesh } from '../support/in-process-mesh.js';
import { adminClient } from '../support/test-pki.js';

interface Context {
  registryAddress: string;
  gatewayService: RunningGatewayService;
  inferenceService: RunningInferenceService;
  gateway: GatewayClient;
  /** Inference itself (not through the gateway): to see what it has loaded. */
  inference: GRPCInferenceServiceClient;
  mesh: InProcessMesh;
}
const test = anyTest as TestFn<Context>;

/** How long inference keeps a version after the new stable one is ready: far above the gateway's resync and poll. */
const UNLOAD_DRAIN_MS = 1_500;
const TEXT = 'Overall it was brilliant! 10/10';

test.before(async (t) => {
  const mesh = await startInProcessMesh({
    // No NATS here: the services follow the registry by resync.
    env: { NATS_URL: 'nats://127.0.0.1:1', RESYNC_INTERVAL_NO_NATS_MS: '150' },
    serviceEnv: {
      // Inference reads the registry only when the test says (resyncNow), so the test sets who learns of a switch first.
      inference: { RESYNC_INTERVAL_NO_NATS_MS: '600000', UNLOAD_DRAIN_MS: String(UNLOAD_DRAIN_MS) },
      gateway: { METRICS_PORT: '0', READINESS_POLL_MS: '50' },
    },
    beforeConsumers: async (registryAddress) => {
      for (const version of ['1', '2']) await registerPackage({ client: adminClient(), registryAddress, packageDir: examplePackage('sentiment', version) });
      await setRollout({ client: adminClient(), registryAddress, model: 'sentiment', stableVersion: '1' });
    },
  });

  t.context = {
    registryAddress: mesh.addresses.registry,
    gatewayService: mesh.services.gateway,
    inferenceService: mesh.services.inference,
    gateway: createClient(contracts().maas.v1.Gateway, mesh.addresses.gateway, mesh.clientOptions()),
    inference: createClient(contracts().inference.GRPCInferenceService, mesh.addresses.inference, mesh.clientOptions('gateway')),
    mesh,
  };
});

test.after.always(async (t) => {
  if (!t.context.mesh) return;
  for (const client of [t.context.gateway, t.context.inference]) client.close();
  await t.context.mesh.stop();
});

type Ctx = { context: Context };

/** Sequential Classify calls on a few concurrent workers until stopped: per worker, each answer's version or its error. */
function trafficLoop(t: Ctx, workers = 4) {
  let running = true;
  const answers: string[][] = Array.from({ length: workers }, () => []);
  /** Every answer's version in the order they came. */
  const inOrder: string[] = [];
  const failures: string[] = [];
  const done = Promise.all(
    answers.map(async (seen) => {
      while (running) {
        try {
          const response = await unaryCall<object, ClassifyResponse__Output>(
            (r, md, o, cb) => t.context.gateway.Classify(r, md, o, cb),
            { model: 'sentiment', texts: [TEXT] },
            { deadline: 20_000 },
          );
          seen.push(response.predictions[0]!.model_version);
          inOrder.push(response.predictions[0]!.model_version);
        } catch (error) {
          failures.push(String(error));
        }
      }
    }),
  );
  return {
    /** Versions answered so far, all workers together, in the order they came. */
    seen: (): readonly string[] => inOrder,
    async stop() {
      running = false;
      await done;
      return { answers, failures };
    },
  };
}

/** This file's waits: up to 30 s each (a model load on a busy machine), checked every 25 ms. */
function eventually(what: string, check: () => Promise<boolean> | boolean): Promise<true> {
  return eventuallyWithin(what, check, { timeoutMs: 30_000 });
}

/** Whether inference itself has `version` loaded (a version no rollout references and not loaded is refused). */
async function inferenceHas(t: Ctx, version: string): Promise<boolean> {
  try {
    const reply = await unaryCall<object, { ready: boolean }>(
      (r, md, o, cb) => t.context.inference.ModelReady(r, md, o, cb),
      { name: 'sentiment', version },
      { deadline: 5_000 },
    );
    return reply.ready;
  } catch (error) {
    if ((error as { code?: number }).code === Status.FAILED_PRECONDITION) return false;
    throw error;
  }
}

async function routableVersions(t: Ctx): Promise<string[]> {
  const text = await (await fetch(`http://127.0.0.1:${t.context.gatewayService.metricsPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('maas_gateway_routable_versions{') && line.includes('model="sentiment"'))
    .map((line) => `${/version="([^"]*)"/.exec(line)![1]} ${/role="([^"]*)"/.exec(line)![1]} ${line.slice(line.lastIndexOf(' ') + 1)}`)
    .sort();
}

/** Every worker's answers go from `from` to `to` once, never back, and some are of each. */
function assertMoved(t: import('ava').ExecutionContext<Context>, answers: string[][], from: string, to: string): void {
  for (const [worker, seen] of answers.entries()) {
    const firstNew = seen.indexOf(to);
    const switched = firstNew < 0 ? seen : seen.slice(0, firstNew);
    t.true(
      switched.every((version) => version === from),
      `worker ${worker} answered ${JSON.stringify(seen)}`,
    );
    if (firstNew >= 0)
      t.true(
        seen.slice(firstNew).every((version) => version === to),
        `worker ${worker} went back: ${JSON.stringify(seen)}`,
      );
  }
  const all = answers.flat();
  t.true(all.includes(from) && all.includes(to), `answers: ${all.length} calls, versions ${[...new Set(all)].join(',')}`);
}

test.serial('a promote to a version not loaded yet: no call fails, and answers move from 1 to 2 once it is ready', async (t) => {
  t.false(await inferenceHas(t, '2'));
  const traffic = trafficLoop(t);
  await eventually('traffic on version 1', () => traffic.seen().length >= 8);

  await setRollout({ client: adminClient(), registryAddress: t.context.registryAddress, model: 'sentiment', stableVersion: '2' });
  // The gateway learns first: inference has not even started loading 2, so the stable share stays on 1.
  await t.context.gatewayService.resyncNow();
  t.deepEqual(await routableVersions(t), ['1 draining 1', '2 stable 0']);
  const before = traffic.seen().length;
  await eventually('more traffic while 2 is not loaded', () => traffic.seen().length >= before + 8);

  await t.context.inferenceService.resyncNow();
  await eventually('answers from version 2', () =>
    traffic
      .seen()
      .slice(-8)
      .every((version) => version === '2'),
  );
  t.deepEqual(await routableVersions(t), ['2 stable 1'], 'version 1 no longer routed to');
  // Version 1 is unloaded after the drain time; calls keep succeeding across that too.
  await eventually('inference to unload version 1', async () => !(await inferenceHas(t, '1')));
  const unloadedAt = traffic.seen().length;
  await eventually('traffic after the unload', () => traffic.seen().length >= unloadedAt + 8);

  const { answers, failures } = await traffic.stop();
  t.deepEqual(failures, []);
  assertMoved(t, answers, '1', '2');
});

test.serial('a rollback to a version already unloaded: no call fails, and answers move from 2 to 1 once it is ready', async (t) => {
  t.false(await inferenceHas(t, '1'));
  const traffic = trafficLoop(t);
  await eventually('traffic on version 2', () => traffic.seen().length >= 8);

  await setRollout({ client: adminClient(), registryAddress: t.context.registryAddress, model: 'sentiment', stableVersion: '1' });
  // Inference learns first this time and reloads 1, keeping 2; the gateway follows at its own resync.
  await t.context.inferenceService.resyncNow();
  await eventually('answers from version 1', () =>
    traffic
      .seen()
      .slice(-8)
      .every((version) => version === '1'),
  );
  await eventually('inference to unload version 2', async () => !(await inferenceHas(t, '2')));
  const unloadedAt = traffic.seen().length;
  await eventually('traffic after the unload', () => traffic.seen().length >= unloadedAt + 8);

  const { answers, failures } = await traffic.stop();
  t.deepEqual(failures, []);
  assertMoved(t, answers, '2', '1');
  t.deepEqual(await routableVersions(t), ['1 stable 1']);
});
