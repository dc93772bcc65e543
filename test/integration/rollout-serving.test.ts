// The serving side of rollouts against the real registry, tokenizer, inference and gateway (in process, real
// gRPC, the example packages): versions pinned by label or alias, shadow traffic from sentiment/1 (fp32) to
// sentiment/2 (int8) with its agreement counted, and the quality gate's evaluation through the serving path.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServiceError } from '@grpc/grpc-js';
import { registerPackage, setAlias, setRollout } from '@maas/cli';
import { loadConfig as gatewayConfig, startGatewayService } from '@maas/gateway';
import { evaluateThroughGateway, loadEvaluationSet } from '@maas/model-evaluation';
import {
  contracts,
  Status,
  type ClassifyResponse__Output,
  type EncodeResponse__Output,
  type GatewayClient,
  type ModelInferRequest,
  type ModelInferResponse__Output,
  type ModelRegistryClient,
  type ModelVersion__Output,
} from '@maas/protos';
import { createClient, createLogger, unaryCall } from '@maas/shared';
import anyTest, { type TestFn } from 'ava';
import { eventually } from '../support/eventually.js';
import { examplePackage } from '../support/example-models.js';
import { OBSERVED_GATEWAY_ENV, RESYNC_ONLY_ENV, startInProcessMesh, type InProcessMesh } from '../support/in-process-mesh.js';
import { repackage } from '../support/model-packages.js';
import { adminClient, testPki } from '../support/test-pki.js';

interface Context {
  tmp: string;
  mesh: InProcessMesh;
  gateway: GatewayClient;
  registry: ModelRegistryClient;
}
const test = anyTest as TestFn<Context>;

test.before(async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'maas-rollout-serving-'));
  const sentiment1 = examplePackage('sentiment', '1');
  const packages = [
    sentiment1,
    examplePackage('sentiment', '2'),
    repackage(sentiment1, path.join(tmp, 'sentiment-3'), { version: '3', brokenModel: true }),
    repackage(sentiment1, path.join(tmp, 'sentiment-4'), { version: '4' }),
  ];
  const mesh = await startInProcessMesh({
    env: RESYNC_ONLY_ENV,
    serviceEnv: { gateway: OBSERVED_GATEWAY_ENV },
    beforeConsumers: async (registryAddress) => {
      for (const packageDir of packages) await registerPackage({ client: adminClient(), registryAddress, packageDir });
      // Every call goes to stable 1 (weight 0) and is mirrored to canary 2.
      await setRollout({
        client: adminClient(),
        registryAddress,
        model: 'sentiment',
        stableVersion: '1',
        canaryVersion: '2',
        canaryWeight: 0,
        mirrorPercent: 100,
      });
      await setAlias({ client: adminClient(), registryAddress, model: 'sentiment', alias: 'production', version: '1' });
      await setAlias({ client: adminClient(), registryAddress, model: 'sentiment', alias: 'broken', version: '3' });
      // A version no rollout names: the alias alone makes the mesh serve it.
      await setAlias({ client: adminClient(), registryAddress, model: 'sentiment', alias: 'champion', version: '4' });
    },
  });
  t.context = {
    tmp,
    mesh,
    gateway: createClient(contracts().maas.v1.Gateway, mesh.addresses.gateway, mesh.clientOptions()),
    registry: createClient(contracts().maas.v1.ModelRegistry, mesh.addresses.registry, mesh.clientOptions()),
  };
});

test.after.always(async (t) => {
  if (!t.context.mesh) return;
  t.context.gateway.close();
  t.context.registry.close();
  await t.context.mesh.stop();
  fs.rmSync(t.context.tmp, { recursive: true, force: true });
});

const TEXTS = ['Overall it was brilliant! 10/10', 'well, this sci-fi epic was not worth the money...'];

function classify(gateway: GatewayClient, request: { texts: string[]; version?: string; routing_key?: string }) {
  return unaryCall<object, ClassifyResponse__Output>(
    (r, md, o, cb) => gateway.Classify(r, md, o, cb),
    { model: 'sentiment', ...request },
    { deadline: 20_000 },
  );
}

async function statusOf(promise: Promise<unknown>): Promise<ServiceError> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: ServiceError) => error,
  );
}

/** A registered version, as the registry serves it. */
function getVersion(registry: ModelRegistryClient, version: string) {
  return unaryCall<object, ModelVersion__Output>((r, md, o, cb) => registry.GetVersion(r, md, o, cb), { model: 'sentiment', version }, { deadline: 5_000 });
}

/** The value of each sample of `name` whose labels include `labels`, summed. */
async function metricValue(metricsPort: number, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{([^}]*)\} ([0-9.e+-]+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    if (Object.entries(labels).every(([key, value]) => match[2]!.includes(`${key}="${value}"`))) sum += Number(match[3]);
  }
  return sum;
}

test.serial('a pinned version label or alias answers from that version, bypassing the rollout; NOT_FOUND and UNAVAILABLE otherwise', async (t) => {
  const { gateway } = t.context;
  t.deepEqual(
    (await classify(gateway, { texts: TEXTS })).predictions.map((p) => p.model_version),
    ['1', '1'],
  );
  t.deepEqual(
    (await classify(gateway, { texts: TEXTS, version: '2' })).predictions.map((p) => p.model_version),
    ['2', '2'],
  );
  const pinned = await classify(gateway, { texts: TEXTS, version: 'production' });
  t.deepEqual(
    pinned.predictions.map((p) => [p.label, p.model_version]),
    [
      ['positive', '1'],
      ['negative', '1'],
    ],
  );
  t.deepEqual(
    (await classify(gateway, { texts: TEXTS, version: 'champion' })).predictions.map((p) => p.model_version),
    ['4', '4'],
  );

  const unknown = await statusOf(classify(gateway, { texts: TEXTS, version: 'staging' }));
  t.is(unknown.code, Status.NOT_FOUND);
  t.is(unknown.details, 'model "sentiment" has no version or alias "staging"');
  // The alias points at a version that cannot load: never ready, so UNAVAILABLE (the caller may retry elsewhere).
  const broken = await statusOf(classify(gateway, { texts: TEXTS, version: 'broken' }));
  t.is(broken.code, Status.UNAVAILABLE);
  t.is(broken.details, 'version "3" (alias "broken") of model "sentiment" is not ready');
});

test.serial('OIP ModelInfer through the gateway takes an alias as model_version and names the version that answered', async (t) => {
  const { mesh } = t.context;
  const tokenizer = createClient(contracts().maas.v1.Tokenizer, mesh.addresses.tokenizer, mesh.clientOptions());
  const oip = createClient(contracts().inference.GRPCInferenceService, mesh.addresses.gateway, mesh.clientOptions());
  t.teardown(() => {
    tokenizer.close();
    oip.close();
  });
  const encoded = await unaryCall<object, EncodeResponse__Output>(
    (r, md, o, cb) => tokenizer.Encode(r, md, o, cb),
    { model: 'sentiment', version: '1', texts: TEXTS },
    { deadline: 5_000 },
  );
  const tensor = encoded.tensors[0]!;
  const request: ModelInferRequest = {
    model_name: 'sentiment',
    model_version: 'production',
    inputs: [{ name: tensor.name, datatype: tensor.datatype, shape: tensor.shape }],
    raw_input_contents: [tensor.raw_contents],
  };
  const response = await unaryCall<ModelInferRequest, ModelInferResponse__Output>((r, md, o, cb) => oip.ModelInfer(r, md, o, cb), request, {
    deadline: 10_000,
  });
  t.is(response.model_version, '1');
  t.true(response.raw_output_contents[0]!.readFloatLE(0) >= 0.5);
});

test.serial('shadow traffic: every stable call is mirrored to the canary and int8 agrees with fp32; callers only ever see stable', async (t) => {
  const { gateway, mesh } = t.context;
  const version = await getVersion(t.context.registry, '1');
  const evaluation = await loadEvaluationSet({ registry: t.context.registry, version, deadline: 10_000 });
  const texts = evaluation!.set.texts;
  const port = mesh.metricsPorts.gateway;
  const pairLabels = { model: 'sentiment', stable_version: '1', candidate_version: '2' };
  const before = await metricValue(port, 'maas_gateway_mirror_calls_total', { ...pairLabels, result: 'ok' });

  const calls = [];
  for (let start = 0; start < texts.length; start += 16) calls.push(classify(gateway, { texts: texts.slice(start, start + 16) }));
  const answers = await Promise.all(calls);
  t.true(answers.every((answer) => answer.predictions.every((prediction) => prediction.model_version === '1')));
  t.true(
    await eventually(
      'every call is mirrored',
      async () => (await metricValue(port, 'maas_gateway_mirror_calls_total', { ...pairLabels, result: 'ok' })) - before === calls.length,
    ),
  );
  const agree = await metricValue(port, 'maas_gateway_mirror_predictions_total', { ...pairLabels, agreement: 'agree' });
  const disagree = await metricValue(port, 'maas_gateway_mirror_predictions_total', { ...pairLabels, agreement: 'disagree' });
  t.log(`agreement of sentiment/2 (int8) with sentiment/1 (fp32) on ${agree + disagree} mirrored texts: ${((100 * agree) / (agree + disagree)).toFixed(2)} %`);
  t.true(agree + disagree >= texts.length);
  t.true(agree / (agree + disagree) >= 0.98);
  // int8 weights move scores a little, never far.
  const observed = await metricValue(port, 'maas_gateway_mirror_score_difference_count', pairLabels);
  const total = await metricValue(port, 'maas_gateway_mirror_score_difference_sum', pairLabels);
  t.true(observed === agree && total / observed < 0.05, `mean |score difference| ${total / observed}`);
});

test.serial('a mirror that fails or is over its bound never fails or holds up the caller', async (t) => {
  const { mesh } = t.context;
  // A second gateway over the same mesh whose mirrored calls cannot make their deadline, with room for one.
  const shadowGateway = await startGatewayService(
    gatewayConfig({
      ...(await testPki()).env('gateway'),
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: '0',
      METRICS_PORT: '0',
      SHUTDOWN_GRACE_MS: '0',
      NATS_URL: 'nats://127.0.0.1:1',
      REGISTRY_ADDRESS: mesh.addresses.registry,
      TOKENIZER_ADDRESS: mesh.addresses.tokenizer,
      INFERENCE_ADDRESS: mesh.addresses.inference,
      MIRROR_TIMEOUT_MS: '1',
      MIRROR_MAX_IN_FLIGHT: '1',
    }),
    { logger: createLogger({ service: 'gateway', level: 'silent' }) },
  );
  const client = createClient(contracts().maas.v1.Gateway, `127.0.0.1:${shadowGateway.port}`, mesh.clientOptions());
  t.teardown(async () => {
    client.close();
    await shadowGateway.stop();
  });
  await shadowGateway.ready;
  const answers = await Promise.all(Array.from({ length: 24 }, () => classify(client, { texts: TEXTS })));
  t.true(answers.every((answer) => answer.predictions.map((p) => p.label).join() === 'positive,negative' && answer.predictions[0]!.model_version === '1'));
  const port = shadowGateway.metricsPort;
  const pairLabels = { model: 'sentiment', stable_version: '1', candidate_version: '2' };
  t.true(
    await eventually('every mirror is counted', async () => {
      const counted = await Promise.all(
        ['ok', 'error', 'dropped'].map((result) => metricValue(port, 'maas_gateway_mirror_calls_total', { ...pairLabels, result })),
      );
      return counted.reduce((sum, value) => sum + value, 0) === 24;
    }),
  );
  t.true((await metricValue(port, 'maas_gateway_mirror_calls_total', { ...pairLabels, result: 'dropped' })) > 0);
  t.true((await metricValue(port, 'maas_gateway_mirror_calls_total', { ...pairLabels, result: 'error' })) > 0);
  t.is(await metricValue(port, 'maas_gateway_requests_total', { method: 'Classify', model: 'sentiment', code: 'OK' }), 24);
});

test.serial('the quality gate evaluation through the gateway reproduces the metrics the models pipeline wrote into each package', async (t) => {
  const { gateway } = t.context;
  for (const [pin, label] of [
    ['production', '1'],
    ['2', '2'],
  ] as const) {
    const version = await getVersion(t.context.registry, label);
    const loaded = await loadEvaluationSet({ registry: t.context.registry, version, deadline: 10_000 });
    t.truthy(loaded);
    const result = await evaluateThroughGateway({ gateway, model: 'sentiment', version: pin, set: loaded!.set, labels: loaded!.labels, deadline: 30_000 });
    t.is(result.version, label);
    t.is(result.count, loaded!.set.texts.length);
    t.log(
      `sentiment ${pin} (version ${label}) through the gateway: accuracy ${result.accuracy.toFixed(4)} precision ${result.precision.toFixed(4)} recall ${result.recall.toFixed(4)} f1 ${result.f1.toFixed(4)}`,
    );
    // The package's metrics were computed on the same split by the pipeline's own ONNX run (rounded to 6 places).
    for (const metric of ['accuracy', 'precision', 'recall', 'f1'] as const)
      t.true(Math.abs(result[metric] - version.manifest!.metrics[metric]!) < 1e-5, metric);
  }
});
