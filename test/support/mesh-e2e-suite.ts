// The whole mesh's end-to-end assertions, driven over real gRPC with real NATS as a user would: one suite,
// run over the mesh as four processes of this repository (test/e2e) and over the container image
// (test/image), so that both answer to the same checks.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { localPkiDir, registerPackage, runCli, type LocalMesh, type LocalMeshOptions } from '@maas/cli';
import { KerasTokenizer, padSequences } from '@maas/keras-tokenizer';
import {
  contracts,
  type ClassifyRequest,
  type ClassifyResponse__Output,
  type GatewayClient,
  type GRPCInferenceServiceClient,
  type ModelInferRequest,
  type ModelInferResponse__Output,
  type ModelRegistryClient,
  type Rollout__Output,
  type SetRolloutRequest,
} from '@maas/protos';
import { createClient, unaryCall } from '@maas/shared';
import type { ExecutionContext, TestFn } from 'ava';
import * as ort from 'onnxruntime-node';
import { eventually } from './eventually.js';
import { examplePackage, ROOT_DIR } from './example-models.js';
import { otlpEnvironment, startOtlpReceiver, type ReceivedSpan } from './otlp-receiver.js';
import { classifyStory, SPAN_KIND, type ClassifyStory } from './request-traces.js';

interface Context {
  mesh: LocalMesh;
  release: () => Promise<void>;
  dataDir: string;
  spans: ReceivedSpan[];
  closeReceiver: () => Promise<void>;
  gateway: GatewayClient;
  registry: ModelRegistryClient;
  gatewayOip: GRPCInferenceServiceClient;
  inferenceOip: GRPCInferenceServiceClient;
  logs: string[];
}

/** What the suite asks of a mesh: its data directory, environment and line sink are the suite's. */
export type MeshStartOptions = Required<Pick<LocalMeshOptions, 'dataDir' | 'env' | 'onLine'>>;

export interface MeshUnderTest {
  mesh: LocalMesh;
  /** Undoes what starting the mesh set up besides its processes (run after they stopped). */
  release?: () => Promise<void>;
}

export interface MeshE2eOptions {
  /** Starts the four services, free ports, resolving once each is SERVING. */
  start: (options: MeshStartOptions) => Promise<MeshUnderTest>;
  /** More tests of the running mesh, run after the suite's own and before the services are stopped. */
  whileRunning?: { title: string; run: (t: ExecutionContext, mesh: LocalMesh) => void | Promise<void> }[];
}

const classify = (client: GatewayClient, request: ClassifyRequest, metadata?: grpc.Metadata) =>
  unaryCall<ClassifyRequest, ClassifyResponse__Output>((r, md, o, cb) => client.Classify(r, md, o, cb), request, { deadline: 10_000, metadata });

const setRollout = (client: ModelRegistryClient, request: SetRolloutRequest, metadata?: grpc.Metadata) =>
  unaryCall<SetRolloutRequest, Rollout__Output>((r, md, o, cb) => client.SetRollout(r, md, o, cb), request, { deadline: 10_000, metadata });

/** gRPC metadata that starts a trace with a fresh id the test knows. */
function tracedMetadata(): { traceId: string; metadata: grpc.Metadata } {
  const traceId = randomBytes(16).toString('hex');
  const metadata = new grpc.Metadata();
  metadata.set('traceparent', `00-${traceId}-${randomBytes(8).toString('hex')}-01`);
  return { traceId, metadata };
}

const modelInfer = (client: GRPCInferenceServiceClient, request: ModelInferRequest) =>
  unaryCall<ModelInferRequest, ModelInferResponse__Output>((r, md, o, cb) => client.ModelInfer(r, md, o, cb), request, { deadline: 10_000 });

/** What the ONNX model itself says for these texts, tokenized as Keras would (the reference for the mesh). */
async function directScores(packageDir: string, texts: string[]): Promise<number[]> {
  const manifest = JSON.parse(readFileSync(path.join(packageDir, 'maas.json'), 'utf8'));
  const tokenizer = KerasTokenizer.fromJson(readFileSync(path.join(packageDir, manifest.tokenizer.file), 'utf8'));
  const rows = padSequences(tokenizer.textsToSequences(texts), { maxlen: manifest.tokenizer.max_length, padding: 'pre', truncating: 'pre' });
  const session = await ort.InferenceSession.create(path.join(packageDir, manifest.model_file));
  const ids = new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, manifest.tokenizer.max_length]);
  const output = await session.run({ [manifest.inputs[0].name]: ids });
  await session.release();
  return Array.from(output[manifest.outputs[0].name]!.data as Float32Array);
}

const TEXTS = ['An absolute delight, I loved every minute of it!', 'Terrible service and the food was cold.', '', 'meh'];

/** KServe/Triton-style ModelInfer for sentiment: input_ids as INT64, typed or raw. */
function inferRequest(rows: number[][], style: 'typed' | 'raw', version = ''): ModelInferRequest {
  const shape = [rows.length, rows[0]!.length];
  const flat = rows.flat();
  const input = { name: 'input_ids', datatype: 'INT64', shape };
  if (style === 'typed') return { model_name: 'sentiment', model_version: version, inputs: [{ ...input, contents: { int64_contents: flat } }] };
  return { model_name: 'sentiment', model_version: version, inputs: [input], raw_input_contents: [Buffer.from(BigInt64Array.from(flat.map(BigInt)).buffer)] };
}

function outputValues(response: ModelInferResponse__Output): number[] {
  if (response.raw_output_contents.length > 0) {
    const raw = response.raw_output_contents[0]!;
    return Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
  }
  return response.outputs[0]!.contents!.fp32_contents;
}

/** Registers the end-to-end tests (serial, in order) on `anyTest` of the calling test file. */
export function defineMeshE2e(anyTest: TestFn, options: MeshE2eOptions): void {
  const test = anyTest as TestFn<Context>;

  test.serial.before(async (t) => {
    examplePackage('sentiment', '1');
    const receiver = await startOtlpReceiver();
    const dataDir = mkdtempSync(path.join(tmpdir(), 'maas-e2e-'));
    const logs: string[] = [];
    const { mesh, release = async () => {} } = await options.start({
      dataDir,
      env: {
        ...otlpEnvironment(receiver.endpoint),
        DEPLOYMENT_ENVIRONMENT: 'e2e',
        LOG_LEVEL: 'info',
        RESYNC_INTERVAL_MS: '2000',
        NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
      },
      onLine: (service, line) => logs.push(`${service}: ${line}`),
    });
    const v1 = contracts().maas.v1;
    t.context = {
      mesh,
      release,
      dataDir,
      spans: receiver.spans,
      closeReceiver: receiver.close,
      logs,
      gateway: createClient(v1.Gateway, mesh.addresses.gateway, mesh.clientOptions),
      registry: createClient(v1.ModelRegistry, mesh.addresses['model-registry'], mesh.clientOptions),
      gatewayOip: createClient(contracts().inference.GRPCInferenceService, mesh.addresses.gateway, mesh.clientOptions),
      inferenceOip: createClient(contracts().inference.GRPCInferenceService, mesh.addresses.inference, mesh.clientOptions),
    };
  });

  test.after.always(async (t) => {
    if (!t.context.mesh) return;
    await t.context.mesh.stop();
    await t.context.release();
    await t.context.closeReceiver();
    rmSync(t.context.dataDir, { recursive: true, force: true });
    const exited = Object.values(t.context.mesh.processes).map((child) => child.exitCode);
    if (exited.some((code) => code !== 0)) console.log(`service exit codes: ${exited.join(', ')}\n${t.context.logs.slice(-40).join('\n')}`);
  });

  test.serial('Classify through the gateway answers as the ONNX model does, in one trace across three hops', async (t) => {
    const { gateway, registry } = t.context;
    const sentiment1 = examplePackage('sentiment', '1');
    await registerPackage({ client: t.context.mesh.clientOptions, registryAddress: t.context.mesh.addresses['model-registry'], packageDir: sentiment1 });
    await setRollout(registry, { model: 'sentiment', stable_version: '1' });

    // The mesh converges on a rollout asynchronously (events, then loads): retried until it answers.
    const response = await eventually('Classify answered by version 1', () => classify(gateway, { model: 'sentiment', texts: TEXTS }), {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    const expected = await directScores(sentiment1, TEXTS);
    t.is(response.predictions.length, TEXTS.length);
    response.predictions.forEach((prediction, index) => {
      const positive = expected[index]!;
      t.is(prediction.model_version, '1');
      t.is(prediction.label, positive >= 0.5 ? 'positive' : 'negative');
      t.true(Math.abs(prediction.score - (positive >= 0.5 ? positive : 1 - positive)) < 1e-5, `text ${index}: ${prediction.score} vs ${positive}`);
    });

    // One request with a trace id the test chose: every hop must report spans in that trace, linked parent → child.
    const { traceId, metadata } = tracedMetadata();
    await classify(gateway, { model: 'sentiment', texts: ['tracing this one request'] }, metadata);
    const inTrace = await eventually(
      'spans from all three hops',
      async () => {
        const spans = t.context.spans.filter((span) => span.traceId === traceId);
        const services = new Set(spans.map((span) => span.service));
        if (!['maas-gateway', 'maas-tokenizer', 'maas-inference'].every((service) => services.has(service)))
          throw new Error(`spans so far from ${[...services].join(', ')}`);
        return spans;
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    const byId = new Map(inTrace.map((span) => [span.spanId, span]));
    const serverSpan = (service: string) => inTrace.find((span) => span.service === service && span.kind === 2 /* SERVER */);
    for (const service of ['maas-tokenizer', 'maas-inference']) {
      const server = serverSpan(service);
      t.truthy(server, `${service} has a server span in the trace`);
      const parent = byId.get(server!.parentSpanId);
      t.is(parent?.service, 'maas-gateway', `${service}'s server span is a child of a gateway span`);
      t.is(parent?.kind, 3 /* CLIENT */);
    }
    t.truthy(serverSpan('maas-gateway'));
  });

  test.serial('a 50% canary: both versions answer, a routing key always gets the same one', async (t) => {
    const { gateway, registry } = t.context;
    await registerPackage({
      client: t.context.mesh.clientOptions,
      registryAddress: t.context.mesh.addresses['model-registry'],
      packageDir: examplePackage('sentiment', '2'),
    });
    const rolloutTrace = tracedMetadata();
    await setRollout(registry, { model: 'sentiment', stable_version: '1', canary_version: '2', canary_weight: 50 }, rolloutTrace.metadata);

    const seen = await eventually(
      'both versions answering',
      async () => {
        const versions = new Set<string>();
        for (let i = 0; i < 40; i += 1) versions.add((await classify(gateway, { model: 'sentiment', texts: ['good enough'] })).predictions[0]!.model_version);
        if (versions.size < 2) throw new Error(`only ${[...versions].join(', ')} answered`);
        return versions;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    t.deepEqual([...seen].sort(), ['1', '2']);

    // The rollout change travelled as a NATS event in the same trace: the registry's SetRollout server span →
    // its publish span → each consumer's process span.
    const { setRolloutSpan, producer, consumers } = await eventually(
      'consumer spans of the rollout event',
      async () => {
        const spans = t.context.spans.filter((span) => span.traceId === rolloutTrace.traceId);
        const server = spans.find(
          (span) => span.service === 'maas-model-registry' && span.kind === SPAN_KIND.SERVER && span.name === 'maas.v1.ModelRegistry/SetRollout',
        );
        const published = spans.find((span) => span.service === 'maas-model-registry' && span.kind === SPAN_KIND.PRODUCER);
        const found = spans.filter((span) => span.kind === SPAN_KIND.CONSUMER && span.parentSpanId === published?.spanId);
        if (!server || !published || found.length < 3) throw new Error(`consumer spans so far: ${found.map((span) => span.service).join(', ')}`);
        return { setRolloutSpan: server, producer: published, consumers: found };
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    t.is(producer.parentSpanId, setRolloutSpan.spanId, 'the publish span is a child of the SetRollout call that caused it');
    t.is(producer.name, 'publish maas.events.registry');
    t.like(producer.attributes, {
      'messaging.system': 'nats',
      'messaging.operation.type': 'publish',
      'messaging.destination.name': 'maas.events.registry.sentiment.rollout-changed',
    });
    t.like(setRolloutSpan.attributes, { 'rpc.system': 'grpc', 'rpc.service': 'maas.v1.ModelRegistry', 'rpc.method': 'SetRollout', 'rpc.grpc.status_code': 0 });
    t.deepEqual([...new Set(consumers.map((span) => span.service))].sort(), ['maas-gateway', 'maas-inference', 'maas-tokenizer']);
    for (const consumer of consumers) {
      t.is(consumer.name, 'process maas.events.registry');
      t.like(consumer.attributes, {
        'messaging.system': 'nats',
        'messaging.operation.type': 'process',
        'messaging.destination.name': 'maas.events.registry.sentiment.rollout-changed',
      });
    }

    for (const key of ['user-17', 'user-42', 'session-abc']) {
      const versions = new Set<string>();
      for (let i = 0; i < 15; i += 1)
        versions.add((await classify(gateway, { model: 'sentiment', texts: ['sticky'], routing_key: key })).predictions[0]!.model_version);
      t.is(versions.size, 1, `routing key ${key} got ${[...versions].join(', ')}`);
    }
  });

  test.serial("concurrent Classify calls merged into batches: each request's trace reaches its own hops, with model and version", async (t) => {
    const { gateway } = t.context;
    // One routing key: every call goes to the same version, so they queue together and merge.
    const calls = Array.from({ length: 16 }, (_, index) => ({ ...tracedMetadata(), text: `concurrent request ${index} was quite good` }));
    const responses = await Promise.all(
      calls.map((call) => classify(gateway, { model: 'sentiment', texts: [call.text], routing_key: 'trace-e2e' }, call.metadata)),
    );
    const stories = await eventually("every request's story exported", () => calls.map((call) => classifyStory(t.context.spans, call.traceId)), {
      timeoutMs: 15_000,
      intervalMs: 200,
    });

    const gatewayVersion = (JSON.parse(readFileSync(path.join(ROOT_DIR, 'services', 'gateway', 'package.json'), 'utf8')) as { version: string }).version;
    const versions = new Set(responses.map((response) => response.predictions[0]!.model_version));
    t.is(versions.size, 1, 'one routing key, one version');
    const version = [...versions][0]!;
    stories.forEach((story: ClassifyStory, index) => {
      const { request, gatewayBatch } = story;
      t.like(
        request.attributes,
        {
          'rpc.system': 'grpc',
          'rpc.service': 'maas.v1.Gateway',
          'rpc.method': 'Classify',
          'rpc.grpc.status_code': 0,
          'maas.model': 'sentiment',
          'maas.model_version': version,
          'maas.texts': 1,
        },
        `request ${index}`,
      );
      t.true(['stable', 'canary'].includes(String(request.attributes['maas.route'])), `request ${index} route ${request.attributes['maas.route']}`);
      t.true(Number(request.attributes['maas.tokens']) > 0, `request ${index} tokens`);
      t.true(Number(request.attributes['maas.queue_wait_ms']) >= 0, `request ${index} queue wait`);
      t.like(request.resource, { 'service.name': 'maas-gateway', 'deployment.environment': 'e2e' });
      t.is(request.resource['service.version'], gatewayVersion, "service.version is the gateway package's version");
      // The batch links back to this request, and names the version that served it.
      t.true(
        gatewayBatch.links.some((link) => link.spanId === request.spanId && link.traceId === request.traceId),
        `batch links back to request ${index}`,
      );
      t.like(gatewayBatch.attributes, { 'maas.model': 'sentiment', 'maas.model_version': version, 'maas.batch.requests': gatewayBatch.links.length });
      t.like(story.encodeServer.attributes, { 'maas.model': 'sentiment', 'maas.model_version': version });
      t.like(story.inferServer.attributes, { 'maas.model': 'sentiment', 'maas.model_version': version });
      t.like(story.inferenceBatch.attributes, { 'maas.model': 'sentiment', 'maas.model_version': version });
      t.true(
        story.inferenceBatch.links.some((link) => link.spanId === story.inferServer.spanId),
        `inference batch links back to ModelInfer of request ${index}`,
      );
    });
    // The point of links: some requests were served by a batch that lives in another request's trace.
    const merged = stories.filter((story) => story.gatewayBatch.traceId !== story.request.traceId);
    t.true(merged.length > 0, `16 concurrent calls were merged into ${new Set(stories.map((story) => story.gatewayBatch.spanId)).size} batches`);
    for (const story of stories.filter((candidate) => candidate.gatewayBatch.traceId === candidate.request.traceId)) {
      t.is(story.gatewayBatch.parentSpanId, story.request.spanId, 'a batch is a child of its first request');
    }
  });

  test.serial('bad input gets INVALID_ARGUMENT or NOT_FOUND and harms no later request', async (t) => {
    const { gateway } = t.context;
    const expectCode = async (request: ClassifyRequest, code: grpc.status, pattern: RegExp) => {
      const error = (await t.throwsAsync(classify(gateway, request))) as grpc.ServiceError;
      t.is(error.code, code, `${JSON.stringify(request).slice(0, 80)} → ${error.message}`);
      t.regex(error.details, pattern);
    };
    await expectCode({ model: '', texts: ['x'] }, grpc.status.INVALID_ARGUMENT, /model/);
    await expectCode({ model: 'no-such-model', texts: ['x'] }, grpc.status.NOT_FOUND, /no-such-model/);
    await expectCode({ model: 'sentiment', texts: [] }, grpc.status.INVALID_ARGUMENT, /texts/);
    await expectCode({ model: 'sentiment', texts: Array.from({ length: 5_000 }, () => 'x') }, grpc.status.INVALID_ARGUMENT, /texts/);
    await expectCode({ model: 'sentiment', texts: ['fine', 'y'.repeat(100_000)] }, grpc.status.INVALID_ARGUMENT, /texts\[1\]/);
    const after = await classify(gateway, { model: 'sentiment', texts: ['still working?'] });
    t.is(after.predictions.length, 1);

    // A failed call's server span is failed with its gRPC code and details (what the collector keeps every one of).
    const failed = tracedMetadata();
    await t.throwsAsync(classify(gateway, { model: 'no-such-model', texts: ['x'] }, failed.metadata));
    const span = await eventually(
      'the failed Classify span',
      () => {
        const found = t.context.spans.find(
          (candidate) => candidate.traceId === failed.traceId && candidate.kind === SPAN_KIND.SERVER && candidate.service === 'maas-gateway',
        );
        if (!found) throw new Error('not exported yet');
        return found;
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    t.is(span.statusCode, 2 /* ERROR */);
    t.regex(span.statusMessage, /no-such-model/);
    t.is(span.attributes['rpc.grpc.status_code'], grpc.status.NOT_FOUND);
  });

  test.serial('an OIP client gets correct outputs from the gateway and from inference, raw and typed', async (t) => {
    const sentiment1 = examplePackage('sentiment', '1');
    const manifest = JSON.parse(readFileSync(path.join(sentiment1, 'maas.json'), 'utf8'));
    const tokenizer = KerasTokenizer.fromJson(readFileSync(path.join(sentiment1, 'tokenizer.json'), 'utf8'));
    const texts = ['I loved it', 'worst purchase ever'];
    const rows = padSequences(tokenizer.textsToSequences(texts), { maxlen: manifest.tokenizer.max_length });
    const expected = await directScores(sentiment1, texts);
    for (const [target, client, version] of [
      ['gateway', t.context.gatewayOip, '1'],
      ['inference', t.context.inferenceOip, '1'],
      ['gateway (routed)', t.context.gatewayOip, ''],
    ] as const) {
      for (const style of ['typed', 'raw'] as const) {
        const response = await modelInfer(client, inferRequest(rows, style, version));
        t.is(response.raw_output_contents.length > 0, style === 'raw', `${target} answers ${style} when asked ${style}`);
        const values = outputValues(response);
        t.is(response.outputs[0]!.name, manifest.outputs[0].name);
        t.deepEqual(response.outputs[0]!.shape, [2, 1]);
        if (version === '') t.true(['1', '2'].includes(response.model_version), `routed answer names its version (${response.model_version})`);
        else values.forEach((value, index) => t.true(Math.abs(value - expected[index]!) < 1e-6, `${target} ${style}[${index}]`));
      }
    }
    const wrongShape = (await t.throwsAsync(
      modelInfer(t.context.inferenceOip, {
        ...inferRequest(rows, 'typed', '1'),
        inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [2, 7], contents: { int64_contents: rows.flat() } }],
      }),
    )) as grpc.ServiceError;
    t.is(wrongShape.code, grpc.status.INVALID_ARGUMENT);
    t.regex(wrongShape.details, /input_ids/);
  });

  test.serial('maasctl classify prints label, score, version and text per line (or JSON), and NOT_FOUND for an unknown model', async (t) => {
    const run = async (argv: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await runCli(argv, {
        env: { MAAS_PKI_DIR: localPkiDir(t.context.dataDir) },
        stdout: { write: (text: string) => (stdout += text) },
        stderr: { write: (text: string) => (stderr += text) },
      });
      return { code, stdout, stderr };
    };
    const gateway = ['--gateway', t.context.mesh.addresses.gateway];
    const texts = ['What a wonderful film, I loved it', 'Never again.\tCold food and rude staff.'];
    const ok = await run(['classify', 'sentiment', ...texts, '--routing-key', 'user-17', ...gateway]);
    t.is(ok.code, 0, ok.stderr);
    // What `cut -f` and `awk -F'\t'` see: four columns, even for a text with a tab in it.
    const lines = ok.stdout
      .trim()
      .split('\n')
      .map((line) => line.split('\t'));
    t.deepEqual(
      lines.map(([label]) => label),
      ['positive', 'negative'],
    );
    t.deepEqual(
      lines.map((columns) => columns.length),
      [4, 4],
    );
    t.deepEqual(
      lines.map(([, , , text]) => JSON.parse(text!)),
      texts,
    );
    for (const [, score, version] of lines) {
      t.regex(score!, /^[01]\.\d{4}$/);
      t.true(Number(score) > 0.5 && Number(score) <= 1, `score ${score}`);
      t.true(['1', '2'].includes(version!));
    }

    const json = await run(['classify', 'sentiment', ...texts, '--routing-key', 'user-17', '--output', 'json', ...gateway]);
    t.is(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as { model: string; predictions: Array<{ text: string; label: string; score: number; model_version: string }> };
    t.is(parsed.model, 'sentiment');
    t.deepEqual(
      parsed.predictions.map(({ text, label, model_version }) => [text, label, model_version]),
      lines.map(([label, , version], index) => [texts[index], label, version]),
    );
    parsed.predictions.forEach((prediction, index) => t.is(prediction.score.toFixed(4), lines[index]?.[1] ?? '(no line)'));

    const unknown = await run(['classify', 'no-such-model', 'text', ...gateway]);
    t.is(unknown.code, 1);
    t.regex(unknown.stderr, /^error: NOT_FOUND: .*no-such-model/);
  });

  for (const check of options.whileRunning ?? []) test.serial(check.title, (t) => check.run(t, t.context.mesh));

  test.serial('services stop cleanly on SIGTERM', async (t) => {
    await t.context.mesh.stop();
    for (const [service, child] of Object.entries(t.context.mesh.processes)) t.is(child.exitCode, 0, `${service} exit code`);
  });
}
