/**
 * The inference service over real gRPC, loading its models from the real model registry (both in-process on
 * port 0). The classifier is the example sentiment package when `npm run models` has built it, else a tiny
 * model of the same shape; answers are checked against running the same ONNX file directly.
 */
import type * as grpc from '@grpc/grpc-js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { eventually } from '../../../test/support/eventually.js';
import * as ort from 'onnxruntime-node';
import pino from 'pino';
import type { GRPCInferenceServiceClient, ModelInferRequest, ModelInferResponse__Output } from '@maas/protos';
import { contracts, Status } from '@maas/protos';
import { createClient, unaryCall } from '@maas/shared';
import { loadConfig, SERVER_NAME, startInferenceService, type RunningInferenceService } from '../src/index.js';
import {
  classifierManifest,
  registerPackage,
  registerPackageDir,
  setRollout,
  startRegistry,
  TOKENIZER_FILE,
  type RegistryFixture,
} from './helpers/registry-fixture.js';
import { castModel, embeddingModel, tinyClassifier } from './helpers/tiny-onnx.js';
import { embeddingBoundsOf } from '../src/onnx-index-bounds.js';
import { testPki } from '../../../test/support/test-pki.js';

const SENTIMENT_DIR = path.resolve(__dirname, '../../../models/dist/sentiment/1');
const logger = pino({ level: 'silent' });

interface Classifier {
  name: string;
  seq: number;
  input: string;
  output: string;
  /** ONNX bytes by version. */
  bytes: Record<string, Uint8Array>;
}

let registry: RegistryFixture;
let service: RunningInferenceService;
let client: GRPCInferenceServiceClient;
let classifier: Classifier;
let tmp: string;

const call = <Req, Res>(method: string, request: Req): Promise<Res> =>
  unaryCall(
    (req: Req, md, opts, cb) => (client as unknown as Record<string, (...args: unknown[]) => grpc.ClientUnaryCall>)[method]!.call(client, req, md, opts, cb),
    request,
    { deadline: 20_000 },
  );
const infer = (request: ModelInferRequest) => call<ModelInferRequest, ModelInferResponse__Output>('ModelInfer', request);
const errorOf = async (promise: Promise<unknown>) =>
  (await promise.then(
    () => {
      throw new Error('expected an error');
    },
    (error: unknown) => error,
  )) as { code: number; details: string };

/** Waits up to 20 s for `check`, asking the service to read the registry after each miss (not waiting for its timer). */
function eventuallyAfterResync(check: () => Promise<boolean>, what: string): Promise<true> {
  return eventually(what, async () => (await check()) || (await service.resyncNow(), false), { timeoutMs: 20_000, intervalMs: 100 });
}

async function metricsText(): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${service.metricsPort}/metrics`);
  return response.text();
}

/** Value of a metric line with these label values (0 when absent). */
function metricValue(text: string, name: string, labels: Record<string, string>): number {
  const line = text
    .split('\n')
    .find((candidate) => candidate.startsWith(`${name}{`) && Object.entries(labels).every(([key, value]) => candidate.includes(`${key}="${value}"`)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/** Deterministic token ids for row `row`. */
const idsFor = (row: number, seq: number) => Array.from({ length: seq }, (_, i) => ((row * 7 + i * 3) % 50) + 1);

/** Runs the ONNX file directly (no service) on the given rows. */
async function direct(bytes: Uint8Array, rows: number[][], input: string, output: string): Promise<number[][]> {
  const session = await ort.InferenceSession.create(Buffer.from(bytes), { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
  try {
    const seq = rows[0]!.length;
    const tensor = new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, seq]);
    const result = (await session.run({ [input]: tensor }))[output]!;
    const values = Array.from(result.data as Float32Array);
    const width = values.length / rows.length;
    return rows.map((_, row) => values.slice(row * width, (row + 1) * width));
  } finally {
    await session.release();
  }
}

const rawFloats = (response: ModelInferResponse__Output, index = 0) => {
  const raw = response.raw_output_contents[index]!;
  return Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
};
const rawInt64 = (rows: number[][]) => Buffer.from(BigInt64Array.from(rows.flat(), BigInt).buffer);
const close = (t: import('ava').ExecutionContext, actual: number[], expected: number[]) => {
  t.is(actual.length, expected.length);
  actual.forEach((value, i) =>
    t.true(Math.abs(value - expected[i]!) <= 1e-5 * Math.max(1, Math.abs(expected[i]!)), `element ${i}: ${value} vs ${expected[i]}`),
  );
};

test.before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'maas-inference-'));
  registry = await startRegistry({ dataDir: path.join(tmp, 'registry'), logger });

  if (fs.existsSync(path.join(SENTIMENT_DIR, 'maas.json'))) {
    const manifest = JSON.parse(fs.readFileSync(path.join(SENTIMENT_DIR, 'maas.json'), 'utf8'));
    await registerPackageDir(registry.client, SENTIMENT_DIR);
    const bytes = fs.readFileSync(path.join(SENTIMENT_DIR, manifest.model_file));
    // Version 2: the int8 example package when built, else the same files registered again under "2".
    const secondDir = path.join(SENTIMENT_DIR, '..', '2');
    if (fs.existsSync(path.join(secondDir, 'maas.json'))) await registerPackageDir(registry.client, secondDir);
    else
      await registerPackage(
        registry.client,
        { ...manifest, version: '2', files: undefined },
        Object.fromEntries(manifest.files.map((file: { path: string }) => [file.path, fs.readFileSync(path.join(SENTIMENT_DIR, file.path))])),
      );
    const secondFile = fs.existsSync(path.join(secondDir, 'maas.json'))
      ? path.join(secondDir, JSON.parse(fs.readFileSync(path.join(secondDir, 'maas.json'), 'utf8')).model_file)
      : path.join(SENTIMENT_DIR, manifest.model_file);
    classifier = {
      name: manifest.name,
      seq: manifest.inputs[0].shape[1],
      input: manifest.inputs[0].name,
      output: manifest.outputs[0].name,
      bytes: { '1': bytes, '2': fs.readFileSync(secondFile) },
    };
  } else {
    const bytes = { '1': tinyClassifier(), '2': tinyClassifier({ bias: 0.5 }) };
    for (const version of ['1', '2']) {
      await registerPackage(
        registry.client,
        classifierManifest({ name: 'tiny-classifier', version, inputShape: [-1, 8], output: { name: 'probability', shape: [-1, 1] } }),
        {
          'model.onnx': bytes[version as '1' | '2'],
          'tokenizer.json': TOKENIZER_FILE,
        },
      );
    }
    classifier = { name: 'tiny-classifier', seq: 8, input: 'input_ids', output: 'probability', bytes };
  }
  await setRollout(registry.client, { model: classifier.name, stable_version: '1' });

  await registerPackage(
    registry.client,
    classifierManifest({ name: 'tiny-seq', version: '1', inputShape: [-1, -1], output: { name: 'scores', shape: [-1, -1] }, paddingSide: 'pre' }),
    {
      'model.onnx': castModel(),
      'tokenizer.json': TOKENIZER_FILE,
    },
  );
  await setRollout(registry.client, { model: 'tiny-seq', stable_version: '1' });

  for (const [name, negate] of [
    ['tiny-embedding', false],
    ['tiny-embedding-neg', true],
  ] as const) {
    await registerPackage(registry.client, classifierManifest({ name, version: '1', inputShape: [-1, 4], output: { name: 'scores', shape: [-1, 4, 1] } }), {
      'model.onnx': embeddingModel({ vocab: 10, negate }),
      'tokenizer.json': TOKENIZER_FILE,
    });
    await setRollout(registry.client, { model: name, stable_version: '1' });
  }

  const pki = await testPki();
  const config = loadConfig({
    ...pki.env('inference'),
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    METRICS_PORT: '0',
    REGISTRY_ADDRESS: registry.address,
    MODEL_CACHE_DIR: path.join(tmp, 'cache'),
    // A version dropped from the rollout unloads this long after the stable version is ready (30 s by default).
    UNLOAD_DRAIN_MS: '200',
    RESYNC_INTERVAL_MS: '500',
    RESYNC_INTERVAL_NO_NATS_MS: '200',
    // One worker and a generous wait, so requests sent together reliably share a batch (with several free
    // workers they would be split between them; the default sizing gives one worker per CPU).
    SESSION_WORKERS: '1',
    MAX_QUEUE_DELAY_MS: '100',
    SHUTDOWN_GRACE_MS: '0',
    LOG_LEVEL: 'silent',
  });
  service = await startInferenceService(config, { logger });
  client = createClient(contracts().inference.GRPCInferenceService, `127.0.0.1:${service.port}`, pki.clientOptions('gateway'));
  await service.ready;
});

test.after.always(async () => {
  client?.close();
  await service?.stop();
  await registry?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test.serial('server liveness, readiness and metadata', async (t) => {
  t.deepEqual(await call('ServerLive', {}), { live: true });
  t.deepEqual(await call('ServerReady', {}), { ready: true });
  const metadata = await call<object, { name: string; version: string; extensions: string[] }>('ServerMetadata', {});
  t.is(metadata.name, SERVER_NAME);
  t.regex(metadata.version, /^\d+\.\d+\.\d+/);
  t.deepEqual(metadata.extensions, []);
});

test.serial('ModelReady and ModelMetadata for a rollout version; unknown names are NOT_FOUND', async (t) => {
  t.deepEqual(await call('ModelReady', { name: classifier.name, version: '' }), { ready: true });
  t.deepEqual(await call('ModelReady', { name: classifier.name, version: '1' }), { ready: true });
  t.deepEqual(await call('ModelReady', { name: classifier.name, version: '2' }), { ready: false });
  t.is((await errorOf(call('ModelReady', { name: 'no-such-model', version: '' }))).code, Status.NOT_FOUND);
  t.is((await errorOf(call('ModelReady', { name: classifier.name, version: '9' }))).code, Status.NOT_FOUND);

  const metadata = await call<object, { name: string; versions: string[]; platform: string; inputs: unknown[]; outputs: unknown[] }>('ModelMetadata', {
    name: classifier.name,
    version: '',
  });
  t.is(metadata.name, classifier.name);
  t.deepEqual(metadata.versions, ['1']);
  t.is(metadata.platform, 'onnxruntime_onnx');
  t.deepEqual(metadata.inputs, [{ name: classifier.input, datatype: 'INT64', shape: [-1, classifier.seq] }]);
  t.like(metadata.outputs, [{ name: classifier.output, datatype: 'FP32' }]);
  const seq = await call<object, { inputs: unknown[] }>('ModelMetadata', { name: 'tiny-seq', version: '1' });
  t.deepEqual(seq.inputs, [{ name: 'input_ids', datatype: 'INT64', shape: [-1, -1] }]);
});

test.serial('ModelInfer typed and raw give the numbers of the ONNX file run directly', async (t) => {
  const rows = [0, 1, 2].map((row) => idsFor(row, classifier.seq));
  const expected = await direct(classifier.bytes['1']!, rows, classifier.input, classifier.output);
  const base = { model_name: classifier.name, model_version: '', id: 'abc' };

  const typed = await infer({
    ...base,
    inputs: [{ name: classifier.input, datatype: 'INT64', shape: [3, classifier.seq], contents: { int64_contents: rows.flat() } }],
  });
  t.is(typed.model_version, '1');
  t.is(typed.id, 'abc');
  t.deepEqual(typed.raw_output_contents, []);
  t.is(typed.outputs[0]!.name, classifier.output);
  t.is(typed.outputs[0]!.datatype, 'FP32');
  t.deepEqual(typed.outputs[0]!.shape, [3, expected[0]!.length]);
  close(t, typed.outputs[0]!.contents!.fp32_contents, expected.flat());

  const raw = await infer({
    ...base,
    inputs: [{ name: classifier.input, datatype: 'INT64', shape: [3, classifier.seq] }],
    raw_input_contents: [rawInt64(rows)],
    outputs: [{ name: classifier.output }],
  });
  t.is(raw.raw_output_contents.length, 1);
  t.is(raw.outputs[0]!.contents, null);
  t.deepEqual(raw.outputs[0]!.shape, [3, expected[0]!.length]);
  close(t, rawFloats(raw), expected.flat());
});

test.serial('concurrent requests share session runs and each gets its own rows', async (t) => {
  const labels = { model: classifier.name, version: '1' };
  const before = metricValue(await metricsText(), 'maas_inference_batch_size_requests_count', labels);
  const count = 24;
  const rows = Array.from({ length: count }, (_, row) => idsFor(row + 10, classifier.seq));
  const expected = await direct(classifier.bytes['1']!, rows, classifier.input, classifier.output);
  const responses = await Promise.all(
    rows.map((ids, row) =>
      infer({
        model_name: classifier.name,
        model_version: '1',
        id: `r${row}`,
        inputs: [{ name: classifier.input, datatype: 'INT64', shape: [1, classifier.seq] }],
        raw_input_contents: [rawInt64([ids])],
      }),
    ),
  );
  responses.forEach((response, row) => {
    t.is(response.id, `r${row}`);
    close(t, rawFloats(response), expected[row]!);
  });
  const text = await metricsText();
  const runs = metricValue(text, 'maas_inference_batch_size_requests_count', labels) - before;
  t.true(runs >= 1 && runs < count, `${count} requests took ${runs} session runs`);
  t.true(metricValue(text, 'maas_inference_requests_total', { ...labels, code: 'OK' }) >= count);
  t.true(metricValue(text, 'maas_inference_model_load_seconds_count', labels) >= 1);
});

test.serial('requests of a dynamic-length model are padded on the manifest side and batched', async (t) => {
  const [short, long] = await Promise.all([
    infer({ model_name: 'tiny-seq', inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [1, 2], contents: { int64_contents: [5, 6] } }] }),
    infer({ model_name: 'tiny-seq', inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [1, 3], contents: { int64_contents: [7, 8, 9] } }] }),
  ]);
  t.deepEqual(long!.outputs[0]!.shape, [1, 3]);
  t.deepEqual(long!.outputs[0]!.contents!.fp32_contents, [7, 8, 9]);
  // Batched with the longer request: padded with 0 at the start (the manifest's tokenizer pads 'pre').
  t.deepEqual(short!.outputs[0]!.shape, [1, 3]);
  t.deepEqual(short!.outputs[0]!.contents!.fp32_contents, [0, 5, 6]);
});

test.serial('bad inputs are INVALID_ARGUMENT naming the input, and the service answers after', async (t) => {
  const seq = classifier.seq;
  const cases: Array<[ModelInferRequest, RegExp]> = [
    [{ inputs: [{ name: 'ids', datatype: 'INT64', shape: [1, seq], contents: { int64_contents: idsFor(0, seq) } }] }, /unknown input "ids"/],
    [
      { inputs: [{ name: classifier.input, datatype: 'FP32', shape: [1, seq], contents: { fp32_contents: idsFor(0, seq) } }] },
      new RegExp(`input "${classifier.input}" has datatype "FP32"; the model expects INT64`),
    ],
    [
      { inputs: [{ name: classifier.input, datatype: 'INT64', shape: [1, seq + 1], contents: { int64_contents: idsFor(0, seq + 1) } }] },
      new RegExp(`input "${classifier.input}" has shape \\[1,${seq + 1}\\]; dimension 1 must be ${seq}`),
    ],
    [
      { inputs: [{ name: classifier.input, datatype: 'INT64', shape: [2, seq], contents: { int64_contents: idsFor(0, seq) } }] },
      new RegExp(`input "${classifier.input}" has shape \\[2,${seq}\\] \\(${2 * seq} elements\\)`),
    ],
    [
      { inputs: [{ name: classifier.input, datatype: 'INT64', shape: [1, seq] }], raw_input_contents: [Buffer.alloc(10)] },
      new RegExp(`input "${classifier.input}" raw_input_contents\\[0\\] has 10 bytes`),
    ],
    [{ inputs: [], raw_input_contents: [] }, new RegExp(`no inputs; .*${classifier.input}`)],
  ];
  for (const [request, pattern] of cases) {
    const error = await errorOf(infer({ model_name: classifier.name, ...request }));
    t.is(error.code, Status.INVALID_ARGUMENT, error.details);
    t.regex(error.details, pattern);
  }
  const good = await infer({
    model_name: classifier.name,
    inputs: [{ name: classifier.input, datatype: 'INT64', shape: [1, seq], contents: { int64_contents: idsFor(0, seq) } }],
  });
  t.is(
    good.outputs[0]!.contents!.fp32_contents.length,
    good.outputs[0]!.shape.reduce((a, b) => a * b, 1),
  );
});

test.serial('unknown model or version is NOT_FOUND; a registered version no rollout references is FAILED_PRECONDITION', async (t) => {
  const request = {
    inputs: [{ name: classifier.input, datatype: 'INT64', shape: [1, classifier.seq], contents: { int64_contents: idsFor(0, classifier.seq) } }],
  };
  t.is((await errorOf(infer({ model_name: 'no-such-model', ...request }))).code, Status.NOT_FOUND);
  t.is((await errorOf(infer({ model_name: classifier.name, model_version: '9', ...request }))).code, Status.NOT_FOUND);
  const unreferenced = await errorOf(infer({ model_name: classifier.name, model_version: '2', ...request }));
  t.is(unreferenced.code, Status.FAILED_PRECONDITION);
  t.regex(unreferenced.details, /not loaded; not referenced by a rollout/);
});

test.serial('a canary version is loaded when a rollout names it and unloaded after a rollback', async (t) => {
  const ready = async (version: string) => (await call<object, { ready: boolean }>('ModelReady', { name: classifier.name, version })).ready;
  await setRollout(registry.client, { model: classifier.name, stable_version: '1', canary_version: '2', canary_weight: 10 });
  await eventuallyAfterResync(() => ready('2'), 'the canary to load');

  const rows = [idsFor(3, classifier.seq)];
  const expected = await direct(classifier.bytes['2']!, rows, classifier.input, classifier.output);
  const canary = await infer({
    model_name: classifier.name,
    model_version: '2',
    inputs: [{ name: classifier.input, datatype: 'INT64', shape: [1, classifier.seq] }],
    raw_input_contents: [rawInt64(rows)],
  });
  t.is(canary.model_version, '2');
  close(t, rawFloats(canary), expected.flat());
  const metadata = await call<object, { versions: string[] }>('ModelMetadata', { name: classifier.name, version: '' });
  t.deepEqual(metadata.versions, ['1', '2']);
  // An empty version still means the stable one.
  t.is(
    (
      await infer({
        model_name: classifier.name,
        inputs: [{ name: classifier.input, datatype: 'INT64', shape: [1, classifier.seq] }],
        raw_input_contents: [rawInt64(rows)],
      })
    ).model_version,
    '1',
  );

  await setRollout(registry.client, { model: classifier.name, stable_version: '1' });
  await eventuallyAfterResync(async () => !(await ready('2')), 'the canary to unload');
  const after = await errorOf(
    infer({
      model_name: classifier.name,
      model_version: '2',
      inputs: [{ name: classifier.input, datatype: 'INT64', shape: [1, classifier.seq] }],
      raw_input_contents: [rawInt64(rows)],
    }),
  );
  t.is(after.code, Status.FAILED_PRECONDITION);
});

test.serial('a version that fails to load is reported, not ready, and harms nothing else', async (t) => {
  await registerPackage(
    registry.client,
    classifierManifest({ name: 'tiny-broken', version: '1', inputShape: [-1, 8], output: { name: 'probability', shape: [-1, 1] } }),
    {
      'model.onnx': new TextEncoder().encode('this is not an ONNX model'),
      'tokenizer.json': TOKENIZER_FILE,
    },
  );
  await setRollout(registry.client, { model: 'tiny-broken', stable_version: '1' });
  await eventuallyAfterResync(
    async () => metricValue(await metricsText(), 'maas_inference_model_loads_total', { model: 'tiny-broken', result: 'error' }) >= 1,
    'the load to fail',
  );
  t.deepEqual(await call('ModelReady', { name: 'tiny-broken', version: '1' }), { ready: false });
  const error = await errorOf(
    infer({ model_name: 'tiny-broken', inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [1, 8], contents: { int64_contents: idsFor(0, 8) } }] }),
  );
  t.true(error.code === Status.UNAVAILABLE, error.details);
  t.regex(error.details, /(failed to load|still loading)/);
  t.deepEqual(await call('ServerLive', {}), { live: true });
  const good = await infer({
    model_name: classifier.name,
    inputs: [{ name: classifier.input, datatype: 'INT64', shape: [1, classifier.seq], contents: { int64_contents: idsFor(0, classifier.seq) } }],
  });
  t.is(good.model_version, '1');
});

test('the embedding table behind an input is found in the ONNX file (through Cast), not through other ops', (t) => {
  t.deepEqual([...embeddingBoundsOf(embeddingModel({ vocab: 10 }))], [['input_ids', 10]]);
  t.deepEqual([...embeddingBoundsOf(embeddingModel({ vocab: 10, negate: true }))], []);
  t.deepEqual([...embeddingBoundsOf(castModel())], []);
  t.deepEqual([...embeddingBoundsOf(new TextEncoder().encode('not an onnx file'))], []);
});

test.serial('token ids outside the vocabulary are an INVALID_ARGUMENT naming the input and element; ONNX Runtime never sees them', async (t) => {
  const embed = (ids: number[] | bigint[]) =>
    infer({
      model_name: 'tiny-embedding',
      inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [1, 4] }],
      raw_input_contents: [Buffer.from(BigInt64Array.from(ids as bigint[], BigInt).buffer)],
    });
  await eventuallyAfterResync(
    async () => (await call<object, { ready: boolean }>('ModelReady', { name: 'tiny-embedding', version: '1' })).ready,
    'tiny-embedding to load',
  );
  t.deepEqual(rawFloats(await embed([0, 3, 9, 1])), [0, 3, 9, 1]);
  for (const [ids, element, value] of [
    [[0, 10, 1, 1], 1, '10'],
    [[1, 2, 3, 2n ** 63n - 1n], 3, '9223372036854775807'],
    [[-1, 0, 0, 0], 0, '-1'],
  ] as const) {
    const error = await errorOf(embed(ids as unknown as bigint[]));
    t.is(error.code, Status.INVALID_ARGUMENT);
    t.is(error.details, `input "input_ids" element ${element} is ${value}; the model's vocabulary has 10 entries, so ids must be in [0, 10)`);
  }
  // Typed contents are checked the same way.
  const typed = await errorOf(
    infer({ model_name: 'tiny-embedding', inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [1, 4], contents: { int64_contents: [1, 2, 3, 50] } }] }),
  );
  t.is(typed.code, Status.INVALID_ARGUMENT);
});

test.serial("an ONNX Runtime failure is a generic INTERNAL with a request id, never the runtime's text", async (t) => {
  await eventuallyAfterResync(
    async () => (await call<object, { ready: boolean }>('ModelReady', { name: 'tiny-embedding-neg', version: '1' })).ready,
    'tiny-embedding-neg to load',
  );
  // Neg hides the lookup from the server's check: id 50 becomes index -50, outside the 10-row table, inside ORT.
  const error = await errorOf(
    infer({ model_name: 'tiny-embedding-neg', inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [1, 4], contents: { int64_contents: [1, 2, 3, 50] } }] }),
  );
  t.is(error.code, Status.INTERNAL);
  t.regex(error.details, /^internal error \(request id [0-9a-f]{12}\)$/);
  const fine = await infer({
    model_name: 'tiny-embedding-neg',
    inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [1, 4], contents: { int64_contents: [0, 1, 2, 3] } }],
  });
  t.is(fine.model_version, '1');
});
