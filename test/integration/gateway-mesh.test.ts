// The gateway in front of the real registry, tokenizer and inference services, all four in this process on
// port 0 (no NATS: they follow the registry by resync), driven over real gRPC with the example packages.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Metadata as grpcMetadata, type ServiceError } from '@grpc/grpc-js';
import { registerPackage, setRollout } from '@maas/cli';
import { ROUTING_KEY_HEADER, type RunningGatewayService } from '@maas/gateway';
import {
  contracts,
  Status,
  type ClassifyResponse__Output,
  type EncodeResponse__Output,
  type GatewayClient,
  type GRPCInferenceServiceClient,
  type ModelInferRequest,
  type ModelInferResponse__Output,
  type TokenizerClient,
} from '@maas/protos';
import { createClient, unaryCall } from '@maas/shared';
import anyTest, { type TestFn } from 'ava';
import { eventually } from '../support/eventually.js';
import { examplePackage } from '../support/example-models.js';
import { OBSERVED_GATEWAY_ENV, RESYNC_ONLY_ENV, startInProcessMesh, type InProcessMesh } from '../support/in-process-mesh.js';
import { repackage } from '../support/model-packages.js';
import { adminClient } from '../support/test-pki.js';

interface Context {
  tmp: string;
  registryAddress: string;
  gatewayService: RunningGatewayService;
  gateway: GatewayClient;
  oip: GRPCInferenceServiceClient;
  tokenizer: TokenizerClient;
  mesh: InProcessMesh;
}
const test = anyTest as TestFn<Context>;

const POSITIVE = 'Overall it was brilliant! 10/10';
const NEGATIVE = 'well, this sci-fi epic was not worth the money...';

test.before(async (t) => {
  const sentiment1 = examplePackage('sentiment', '1');
  const sentiment2 = examplePackage('sentiment', '2');
  const encoder = examplePackage('encoder-bench', '1');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'maas-gateway-mesh-'));
  const mesh = await startInProcessMesh({
    // No NATS here: every service follows the registry by resync, on a short interval.
    env: RESYNC_ONLY_ENV,
    serviceEnv: { gateway: OBSERVED_GATEWAY_ENV },
    beforeConsumers: async (registryAddress) => {
      for (const packageDir of [sentiment1, sentiment2, encoder, repackage(sentiment1, path.join(tmp, 'sentiment-3'), { version: '3', brokenModel: true })]) {
        await registerPackage({ client: adminClient(), registryAddress, packageDir });
      }
      await setRollout({ client: adminClient(), registryAddress, model: 'sentiment', stableVersion: '1' });
      await setRollout({ client: adminClient(), registryAddress, model: 'encoder-bench', stableVersion: '1' });
    },
  });

  t.context = {
    tmp,
    registryAddress: mesh.addresses.registry,
    gatewayService: mesh.services.gateway,
    gateway: createClient(contracts().maas.v1.Gateway, mesh.addresses.gateway, mesh.clientOptions()),
    oip: createClient(contracts().inference.GRPCInferenceService, mesh.addresses.gateway, mesh.clientOptions()),
    tokenizer: createClient(contracts().maas.v1.Tokenizer, mesh.addresses.tokenizer, mesh.clientOptions('gateway')),
    mesh,
  };
});

test.after.always(async (t) => {
  if (!t.context.mesh) return;
  for (const client of [t.context.gateway, t.context.oip, t.context.tokenizer]) client.close();
  await t.context.mesh.stop();
  fs.rmSync(t.context.tmp, { recursive: true, force: true });
});

function classify(t: { context: Context }, request: { model: string; texts: string[]; routing_key?: string }) {
  return unaryCall<typeof request, ClassifyResponse__Output>((r, md, o, cb) => t.context.gateway.Classify(r, md, o, cb), request, { deadline: 20_000 });
}

async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error('expected the call to fail');
}

test.serial('Classify answers each text with a label, its probability and the version', async (t) => {
  // The gateway reported ready: the first snapshot is applied and probed, so this answers without retrying.
  const { predictions } = await classify(t, { model: 'sentiment', texts: [POSITIVE, NEGATIVE, ''] });
  t.is(predictions.length, 3);
  t.like(predictions[0], { label: 'positive', model_version: '1' });
  t.like(predictions[1], { label: 'negative', model_version: '1' });
  for (const prediction of predictions) t.true(prediction.score >= 0.5 && prediction.score <= 1, `score ${prediction.score}`);
});

test.serial('a softmax model with a Hugging Face tokenizer reads labels the same way', async (t) => {
  const { predictions } = await classify(t, { model: 'encoder-bench', texts: [POSITIVE, NEGATIVE] });
  t.is(predictions.length, 2);
  for (const prediction of predictions) {
    t.true(['negative', 'positive'].includes(prediction.label));
    t.true(prediction.score >= 0.5 && prediction.score <= 1);
    t.is(prediction.model_version, '1');
  }
});

test.serial('concurrent calls are merged downstream and each gets its own answers back, in order', async (t) => {
  const texts = Array.from({ length: 40 }, (_, index) => (index % 3 === 0 ? NEGATIVE : `${POSITIVE} #${index}`));
  const alone = await Promise.all(texts.map(async (text) => (await classify(t, { model: 'sentiment', texts: [text] })).predictions[0]!));
  const scrape = async () => await (await fetch(`http://127.0.0.1:${t.context.gatewayService.metricsPort}/metrics`)).text();
  const batchesBefore = Number(/maas_gateway_batch_size_requests_count\{[^}]*model="sentiment",version="1"[^}]*\} (\d+)/.exec(await scrape())?.[1] ?? 0);

  const together = await Promise.all(texts.map((text, index) => classify(t, { model: 'sentiment', texts: index % 2 ? [text, NEGATIVE] : [text] })));
  together.forEach((response, index) => {
    t.is(response.predictions.length, index % 2 ? 2 : 1);
    t.is(response.predictions[0]!.label, alone[index]!.label);
    t.true(Math.abs(response.predictions[0]!.score - alone[index]!.score) < 1e-6);
    if (index % 2) t.is(response.predictions[1]!.label, 'negative');
  });
  const batchesAfter = Number(/maas_gateway_batch_size_requests_count\{[^}]*model="sentiment",version="1"[^}]*\} (\d+)/.exec(await scrape())?.[1] ?? 0);
  t.log(`40 concurrent calls took ${batchesAfter - batchesBefore} downstream batches`);
  t.true(batchesAfter - batchesBefore < texts.length, `40 concurrent calls took ${batchesAfter - batchesBefore} batches`);
});

test.serial('a canary takes its share by routing key, and a key always gets the same version', async (t) => {
  await setRollout({
    client: adminClient(),
    registryAddress: t.context.registryAddress,
    model: 'sentiment',
    stableVersion: '1',
    canaryVersion: '2',
    canaryWeight: 50,
  });
  await t.context.gatewayService.resyncNow();
  // Version 2 loads in the background; until inference reports it ready, its share goes to version 1.
  await eventually(
    'the canary to take traffic',
    async () => {
      const versions = await Promise.all(
        Array.from({ length: 20 }, (_, index) => classify(t, { model: 'sentiment', texts: [POSITIVE], routing_key: `user-${index}` })),
      );
      return versions.some((response) => response.predictions[0]!.model_version === '2');
    },
    { timeoutMs: 30_000, intervalMs: 50 },
  );
  const seen = new Map<string, string>();
  for (let round = 0; round < 3; round += 1) {
    for (let index = 0; index < 30; index += 1) {
      const key = `user-${index}`;
      const version = (await classify(t, { model: 'sentiment', texts: [POSITIVE], routing_key: key })).predictions[0]!.model_version;
      if (round === 0) seen.set(key, version);
      else t.is(version, seen.get(key) ?? '(none)', `key ${key} moved`);
    }
  }
  // OIP callers pass the same sticky key as metadata and land on the same version.
  for (let index = 0; index < 10; index += 1) {
    const metadata = new grpcMetadata();
    metadata.set(ROUTING_KEY_HEADER, `user-${index}`);
    const response = await unaryCall<ModelInferRequest, ModelInferResponse__Output>(
      (r, md, o, cb) => t.context.oip.ModelInfer(r, md, o, cb),
      { model_name: 'sentiment', inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [1, 100] }], raw_input_contents: [Buffer.alloc(800)] },
      { deadline: 10_000, metadata },
    );
    t.is(response.model_version, seen.get(`user-${index}`) ?? '(none)');
  }
  const counts = [...seen.values()].reduce((acc, version) => acc.set(version, (acc.get(version) ?? 0) + 1), new Map<string, number>());
  t.true((counts.get('1') ?? 0) > 0 && (counts.get('2') ?? 0) > 0, `versions seen: ${JSON.stringify([...counts])}`);
});

test.serial('traffic never goes to a canary that cannot load', async (t) => {
  await setRollout({
    client: adminClient(),
    registryAddress: t.context.registryAddress,
    model: 'sentiment',
    stableVersion: '1',
    canaryVersion: '3',
    canaryWeight: 100,
  });
  await t.context.gatewayService.resyncNow();
  for (let index = 0; index < 20; index += 1) {
    const { predictions } = await classify(t, { model: 'sentiment', texts: [POSITIVE], routing_key: `user-${index}` });
    t.is(predictions[0]!.model_version, '1');
  }
  // Named explicitly over OIP, the broken version is refused rather than tried.
  const error = await failure(
    unaryCall(
      (r: ModelInferRequest, md, o, cb) => t.context.oip.ModelInfer(r, md, o, cb),
      { model_name: 'sentiment', model_version: '3' },
      { deadline: 5_000 },
    ),
  );
  t.is(error.code, Status.UNAVAILABLE);
  await setRollout({ client: adminClient(), registryAddress: t.context.registryAddress, model: 'sentiment', stableVersion: '1' });
  await t.context.gatewayService.resyncNow();
});

test.serial('OIP ModelInfer through the gateway: routed version named in the answer, raw and typed tensors pass through', async (t) => {
  const encoded = await unaryCall<object, EncodeResponse__Output>(
    (r, md, o, cb) => t.context.tokenizer.Encode(r, md, o, cb),
    { model: 'sentiment', version: '1', texts: [POSITIVE, NEGATIVE] },
    { deadline: 5_000 },
  );
  const tensor = encoded.tensors[0]!;
  const infer = (request: ModelInferRequest) =>
    unaryCall<ModelInferRequest, ModelInferResponse__Output>((r, md, o, cb) => t.context.oip.ModelInfer(r, md, o, cb), request, { deadline: 10_000 });

  const raw = await infer({
    model_name: 'sentiment',
    inputs: [{ name: tensor.name, datatype: tensor.datatype, shape: tensor.shape }],
    raw_input_contents: [tensor.raw_contents],
  });
  t.is(raw.model_version, '1');
  t.is(raw.raw_output_contents[0]!.byteLength, 2 * 4);
  const rawScores = [raw.raw_output_contents[0]!.readFloatLE(0), raw.raw_output_contents[0]!.readFloatLE(4)];
  t.true(rawScores[0]! >= 0.5 && rawScores[1]! < 0.5);

  const ids = Array.from(new BigInt64Array(new Uint8Array(tensor.raw_contents).buffer), Number);
  const typed = await infer({
    model_name: 'sentiment',
    inputs: [{ name: tensor.name, datatype: 'INT64', shape: tensor.shape, contents: { int64_contents: ids } }],
  });
  t.is(typed.model_version, '1');
  const typedScores =
    typed.raw_output_contents.length > 0
      ? [typed.raw_output_contents[0]!.readFloatLE(0), typed.raw_output_contents[0]!.readFloatLE(4)]
      : typed.outputs[0]!.contents!.fp32_contents;
  t.true(Math.abs(typedScores[0]! - rawScores[0]!) < 1e-6 && Math.abs(typedScores[1]! - rawScores[1]!) < 1e-6);

  const ready = await unaryCall((r: object, md, o, cb) => t.context.oip.ModelReady(r, md, o, cb), { name: 'sentiment', version: '' }, { deadline: 5_000 });
  t.deepEqual(ready, { ready: true });
  const metadata = await unaryCall<object, { name: string; inputs: Array<{ name: string }> }>(
    (r, md, o, cb) => t.context.oip.ModelMetadata(r, md, o, cb),
    { name: 'sentiment' },
    { deadline: 5_000 },
  );
  t.is(metadata.inputs[0]!.name, 'input_ids');
});

test.serial('unknown models, models without a rollout and downstream refusals keep their status codes', async (t) => {
  t.is((await failure(classify(t, { model: 'no-such-model', texts: ['x'] }))).code, Status.NOT_FOUND);
  const lone = repackage(examplePackage('sentiment', '1'), path.join(t.context.tmp, 'lonely'), { version: '1' });
  const manifestPath = path.join(lone, 'maas.json');
  fs.writeFileSync(manifestPath, JSON.stringify({ ...JSON.parse(fs.readFileSync(manifestPath, 'utf8')), name: 'lonely' }));
  await registerPackage({ client: adminClient(), registryAddress: t.context.registryAddress, packageDir: lone });
  await t.context.gatewayService.resyncNow();
  t.is((await failure(classify(t, { model: 'lonely', texts: ['x'] }))).code, Status.FAILED_PRECONDITION);
  const unknownVersion = await failure(
    unaryCall(
      (r: ModelInferRequest, md, o, cb) => t.context.oip.ModelInfer(r, md, o, cb),
      { model_name: 'sentiment', model_version: '9' },
      { deadline: 5_000 },
    ),
  );
  t.is(unknownVersion.code, Status.NOT_FOUND);
  const badTensor = await failure(
    unaryCall(
      (r: ModelInferRequest, md, o, cb) => t.context.oip.ModelInfer(r, md, o, cb),
      { model_name: 'sentiment', inputs: [{ name: 'input_ids', datatype: 'FP32', shape: [1, 100] }], raw_input_contents: [Buffer.alloc(400)] },
      { deadline: 5_000 },
    ),
  );
  t.is(badTensor.code, Status.INVALID_ARGUMENT);
});

test.serial('a 100 kB input name gets a short INVALID_ARGUMENT and stalls nothing on the gateway→inference connection', async (t) => {
  const infer = (request: ModelInferRequest, deadlineMs = 5_000) =>
    unaryCall<ModelInferRequest, ModelInferResponse__Output>((r, md, o, cb) => t.context.oip.ModelInfer(r, md, o, cb), request, { deadline: deadlineMs });
  const good = {
    model_name: 'sentiment',
    model_version: '1',
    inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [1, 100] }],
    raw_input_contents: [Buffer.alloc(800)],
  };
  const hugeName = 'x'.repeat(100_000);
  const started = Date.now();
  // The huge-name calls and ordinary ones share the one gateway→inference connection, at the same time.
  const [bad, ...fine] = await Promise.all([
    failure(
      infer({
        model_name: 'sentiment',
        model_version: '1',
        inputs: [{ name: hugeName, datatype: 'INT64', shape: [1, 100] }],
        raw_input_contents: [Buffer.alloc(800)],
      }),
    ),
    ...Array.from({ length: 20 }, () => infer(good)),
  ]);
  const elapsed = Date.now() - started;
  t.log(`huge-name call: ${Status[bad.code]}, ${bad.details.length} characters; 20 concurrent calls answered in ${elapsed} ms`);
  t.is(bad.code, Status.INVALID_ARGUMENT);
  t.true(bad.details.length < 1_100, `status message of ${bad.details.length} characters`);
  t.regex(bad.details, /unknown input "x{64}"… \(100000 characters\)/);
  t.is(fine.length, 20);
  for (const response of fine) t.is(response.model_version, '1');
  // Before the bound, the connection stalled until the deadline (5 s): well under it means no stall.
  t.true(elapsed < 2_000, `took ${elapsed} ms`);
  // And the next calls on the same connection answer at once, too.
  const after = Date.now();
  await infer(good, 2_000);
  t.true(Date.now() - after < 1_000);
});
