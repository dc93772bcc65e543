/**
 * The tokenizer service over real gRPC against a REAL model registry (in-process, port 0, temp data folder):
 * packages are registered over gRPC, then Encode is called over gRPC. NATS is deliberately unreachable, so
 * the services follow the registry by resync alone (on a short interval here).
 */
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { KerasTokenizer, padSequences } from '@maas/keras-tokenizer';
import {
  contracts,
  Status,
  type EncodeRequest,
  type EncodeResponse__Output,
  type EncodedTensor__Output,
  type ModelManifest__Output,
  type ModelVersion__Output,
  type SetRolloutRequest,
  type TokenizerClient,
} from '@maas/protos';
import { createClient, createLogger, freePort, unaryCall } from '@maas/shared';
import { loadConfig, startTokenizerService, type RunningTokenizerService } from '../src/index.js';
import { eventually } from '../../../test/support/eventually.js';
import { modelPackage, registerPackage as registerModelPackage, testManifest } from '../../../test/support/model-packages.js';
import { registryCalls, startTestRegistry, type TestRegistry } from '../../../test/support/test-registry.js';
import { testPki } from '../../../test/support/test-pki.js';

const logger = createLogger({ service: 'tokenizer-test', level: 'silent' });
const fixture = (name: string) => readFileSync(path.join(__dirname, 'fixtures', name));

let registry: TestRegistry;
let noNatsUrl: string;
const cleanups: Array<() => Promise<void> | void> = [];

test.before(async () => {
  noNatsUrl = `nats://127.0.0.1:${await freePort()}`;
  registry = await startTestRegistry({ natsUrl: noNatsUrl, env: { METRICS_PORT: '-1' } });
});

test.after.always(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await registry?.stop();
});

let modelCounter = 0;
const uniqueModel = (prefix: string) => `${prefix}-${++modelCounter}`;

/** Registers a package over gRPC: a model file the tokenizer never reads and the given tokenizer file. */
function registerPackage(options: {
  model: string;
  version: string;
  tokenizerKind: 'keras' | 'huggingface';
  tokenizerFile: Buffer;
  inputs: ModelManifest__Output['inputs'];
  maxLength: number;
  sides: 'pre' | 'post';
}): Promise<ModelVersion__Output> {
  const manifest = testManifest({
    name: options.model,
    version: options.version,
    description: 'tokenizer service test package',
    inputs: options.inputs,
    outputs: [{ name: 'logits', datatype: 'FP32', shape: [-1, 2], role: '' }],
    tokenizer: {
      kind: options.tokenizerKind,
      file: 'tokenizer.json',
      max_length: options.maxLength,
      padding_side: options.sides,
      truncation_side: options.sides,
      pad_id: 0,
    },
    output_activation: 'softmax',
  });
  const files = [
    { path: 'model.onnx', data: Buffer.from('not a real model: the tokenizer never reads it') },
    { path: 'tokenizer.json', data: options.tokenizerFile },
  ];
  return registerModelPackage(registry.client, modelPackage(manifest, files), { chunkBytes: 1000 });
}

/** `tokenizerSuffix` makes the file's bytes (and so its registry blob, which is content-addressed) unique. */
const wordpiecePackage = (model: string, tokenizerSuffix = '') =>
  registerPackage({
    model,
    version: '1',
    tokenizerKind: 'huggingface',
    tokenizerFile: Buffer.concat([fixture('wordpiece-tokenizer.json'), Buffer.from(tokenizerSuffix)]),
    inputs: [
      { name: 'input_ids', datatype: 'INT64', shape: [-1, 8], role: 'input_ids' },
      { name: 'attention_mask', datatype: 'INT32', shape: [-1, 8], role: 'attention_mask' },
    ],
    maxLength: 8,
    sides: 'post',
  });

const setRollout = (request: SetRolloutRequest) => registryCalls(registry.client).setRollout(request);

/** Starts a tokenizer service on port 0 against `registryAddress` (the shared test registry by default). */
async function startTokenizer(env: Record<string, string> = {}): Promise<{ service: RunningTokenizerService; client: TokenizerClient; health: grpc.Client }> {
  const pki = await testPki();
  const config = loadConfig({
    ...pki.env('tokenizer'),
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    METRICS_PORT: '0',
    REGISTRY_ADDRESS: registry.address,
    NATS_URL: noNatsUrl,
    RESYNC_INTERVAL_MS: '200',
    RESYNC_INTERVAL_NO_NATS_MS: '200',
    REGISTRY_TIMEOUT_MS: '3000',
    SHUTDOWN_GRACE_MS: '0',
    SHUTDOWN_DEADLINE_MS: '1000',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const service = await startTokenizerService(config, { logger });
  const client = createClient(contracts().maas.v1.Tokenizer, `127.0.0.1:${service.port}`, pki.clientOptions('gateway'));
  const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
  const { credentials, channelOptions } = pki.clientOptions('gateway');
  const health = new Health(`127.0.0.1:${service.port}`, credentials!, channelOptions);
  cleanups.push(async () => {
    client.close();
    health.close();
    await service.stop();
  });
  return { service, client, health };
}

const encode = (client: TokenizerClient, request: EncodeRequest) =>
  unaryCall<EncodeRequest, EncodeResponse__Output>((r, md, o, cb) => client.Encode(r, md, o, cb), request, { deadline: 10_000 });

function healthStatus(health: grpc.Client): Promise<string> {
  return new Promise((resolve, reject) =>
    (health as unknown as { Check: (request: object, callback: (error: Error | null, response?: { status: string }) => void) => void }).Check(
      { service: 'maas.v1.Tokenizer' },
      (error, response) => (error ? reject(error) : resolve(response!.status)),
    ),
  );
}

async function metricsText(service: RunningTokenizerService): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${service.metricsPort}/metrics`);
  return response.text();
}

/** Rows of a [n, width] tensor, read from its little-endian bytes. */
function rows(tensor: EncodedTensor__Output): number[][] {
  const [count, width] = tensor.shape as [number, number];
  const size = { INT64: 8, INT32: 4, UINT16: 2, UINT8: 1 }[tensor.datatype]!;
  assertLength(tensor.raw_contents.length, count * width * size);
  const read = {
    8: (at: number) => Number(tensor.raw_contents.readBigInt64LE(at)),
    4: (at: number) => tensor.raw_contents.readInt32LE(at),
    2: (at: number) => tensor.raw_contents.readUInt16LE(at),
    1: (at: number) => tensor.raw_contents.readUInt8(at),
  }[size]!;
  const out: number[][] = [];
  for (let row = 0; row < count; row++) {
    const values: number[] = [];
    for (let column = 0; column < width; column++) values.push(read((row * width + column) * size));
    out.push(values);
  }
  return out;
}

function assertLength(actual: number, expected: number): void {
  if (actual !== expected) throw new Error(`raw_contents has ${actual} bytes, expected ${expected}`);
}

test('Encode over gRPC: WordPiece package from the registry, INT64 ids and INT32 mask, padding/truncation post', async (t) => {
  const model = uniqueModel('wordpiece');
  await wordpiecePackage(model);
  const { service, client, health } = await startTokenizer();
  await service.ready; // the registry answered and no rollout references anything: nothing to load
  t.is(await healthStatus(health), 'SERVING');

  const texts = ['The cat sat on the mat.', 'good movie', ''];
  // Two concurrent first requests (they share one load: see tokenizer-cache.test.ts).
  const [response, again] = await Promise.all([encode(client, { model, version: '1', texts }), encode(client, { model, version: '1', texts: ['cat'] })]);
  t.is(response.model, model);
  t.is(response.version, '1');
  t.deepEqual(
    response.tensors.map((tensor) => [tensor.name, tensor.datatype, tensor.shape]),
    [
      ['input_ids', 'INT64', [3, 8]],
      ['attention_mask', 'INT32', [3, 8]],
    ],
  );
  t.deepEqual(rows(response.tensors[0]!), [
    [2, 5, 6, 7, 8, 5, 9, 3],
    [2, 21, 23, 3, 0, 0, 0, 0],
    [2, 3, 0, 0, 0, 0, 0, 0],
  ]);
  t.deepEqual(rows(response.tensors[1]!), [
    [1, 1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 0, 0, 0, 0],
    [1, 1, 0, 0, 0, 0, 0, 0],
  ]);
  t.deepEqual(response.token_counts, [9, 4, 2]);
  t.deepEqual(response.truncated, [true, false, false]);
  t.deepEqual(rows(again.tensors[0]!), [[2, 6, 3, 0, 0, 0, 0, 0]]);
  // As the gateway asks: the same values in one byte each (the fixture's vocabulary is under 256 tokens).
  const narrow = await encode(client, { model, version: '1', texts, narrow_integers: true });
  t.deepEqual(
    narrow.tensors.map((tensor) => [tensor.name, tensor.datatype, tensor.shape]),
    [
      ['input_ids', 'UINT8', [3, 8]],
      ['attention_mask', 'UINT8', [3, 8]],
    ],
  );
  t.deepEqual(narrow.tensors.map(rows), response.tensors.map(rows));
  // (Load counts are not asserted here: other tests' rollouts in the shared registry get preloaded too.)
  t.regex(await metricsText(service), new RegExp(`maas_tokenizer_encode_requests_total\\{[^}]*model="${model}",version="1"[^}]*\\} 3\\n`));
});

test('Encode errors: unknown model and version are NOT_FOUND; limits are INVALID_ARGUMENT with the index', async (t) => {
  const model = uniqueModel('errors');
  await wordpiecePackage(model);
  const { client } = await startTokenizer({ MAX_TEXT_BYTES: '100', MAX_BATCH_TEXTS: '3' });

  const unknownVersion = await t.throwsAsync(encode(client, { model, version: '9', texts: ['a'] }));
  t.is((unknownVersion as grpc.ServiceError).code, Status.NOT_FOUND);
  const unknownModel = await t.throwsAsync(encode(client, { model: 'no-such-model', version: '1', texts: ['a'] }));
  t.is((unknownModel as grpc.ServiceError).code, Status.NOT_FOUND);

  const tooLong = (await t.throwsAsync(encode(client, { model, version: '1', texts: ['ok', 'ok', 'x'.repeat(101)] }))) as grpc.ServiceError;
  t.is(tooLong.code, Status.INVALID_ARGUMENT);
  t.is(tooLong.details, 'texts[2] is 101 bytes; the limit is 100');
  const tooMany = (await t.throwsAsync(encode(client, { model, version: '1', texts: ['a', 'b', 'c', 'd'] }))) as grpc.ServiceError;
  t.is(tooMany.code, Status.INVALID_ARGUMENT);
  t.is(tooMany.details, 'texts has 4 entries; the limit is 3');
  const noVersion = (await t.throwsAsync(encode(client, { model, version: '', texts: ['a'] }))) as grpc.ServiceError;
  t.is(noVersion.code, Status.INVALID_ARGUMENT);
  t.regex(noVersion.details, /^version is required/);
});

test('versions a rollout references are loaded before SERVING; Keras pre/pre into INT32 matches padSequences', async (t) => {
  const model = uniqueModel('keras');
  const kerasFile = fixture('keras-tokenizer.json');
  const kerasPackage = (version: string) =>
    registerPackage({
      model,
      version,
      tokenizerKind: 'keras',
      tokenizerFile: kerasFile,
      inputs: [{ name: 'input_ids', datatype: 'INT32', shape: [-1, 5], role: 'input_ids' }],
      maxLength: 5,
      sides: 'pre',
    });
  await kerasPackage('1');
  await setRollout({ model, stable_version: '1' });
  const { service, client, health } = await startTokenizer();
  await service.ready;
  t.is(await healthStatus(health), 'SERVING');
  const metrics = await metricsText(service);
  t.regex(metrics, /maas_tokenizer_loaded_tokenizers\{[^}]*\} 1\n/, 'loaded by the snapshot, before any Encode');

  const texts = ['The movie was very good, the cat was not bad', 'a dog', ''];
  const response = await encode(client, { model, version: '1', texts });
  t.is(response.tensors.length, 1);
  t.is(response.tensors[0]!.datatype, 'INT32');
  const reference = KerasTokenizer.fromJson(kerasFile.toString('utf8'));
  t.deepEqual(rows(response.tensors[0]!), padSequences(reference.textsToSequences(texts), { maxlen: 5, padding: 'pre', truncating: 'pre' }));
  t.deepEqual(response.truncated, [true, false, false]);

  // A canary appears while the service runs: the resync picks it up and preloads it too.
  await kerasPackage('2');
  await setRollout({ model, stable_version: '1', canary_version: '2', canary_weight: 10 });
  const loadedTwo = /maas_tokenizer_loaded_tokenizers\{[^}]*\} 2\n/;
  await eventually('the canary preloaded', async () => loadedTwo.test(await metricsText(service)), { timeoutMs: 5_000, intervalMs: 50 }).catch(() => undefined);
  t.regex(await metricsText(service), loadedTwo, 'the canary was preloaded without any Encode for it');
});

test('an artifact whose bytes do not match its sha256 is rejected (DATA_LOSS), not used', async (t) => {
  const model = uniqueModel('corrupt');
  // Trailing whitespace: a blob of its own, so corrupting it cannot affect the other tests' packages.
  const version = await wordpiecePackage(model, '    ');
  const artifact = version.artifacts.find((candidate) => candidate.path === 'tokenizer.json')!;
  // The registry's content-addressed layout: blobs/sha256/<first two hex digits>/<digest>. Same size, one byte
  // flipped: the registry hashes the blob before serving it and refuses it (the tokenizer checks sha256 too).
  const blob = path.join(registry.dataDir, 'blobs', 'sha256', artifact.sha256.slice(0, 2), artifact.sha256);
  const bytes = await fs.readFile(blob);
  bytes[10] = bytes[10]! ^ 0x20;
  await fs.chmod(blob, 0o644);
  await fs.writeFile(blob, bytes);

  const { client } = await startTokenizer();
  const error = (await t.throwsAsync(encode(client, { model, version: '1', texts: ['cat'] }))) as grpc.ServiceError;
  t.is(error.code, Status.DATA_LOSS);
  t.regex(error.details, /damaged in the registry's storage/);
});

test('registry down: Encode is UNAVAILABLE and health stays NOT_SERVING', async (t) => {
  const { client, health, service } = await startTokenizer({ REGISTRY_ADDRESS: `127.0.0.1:${await freePort()}` });
  const error = (await t.throwsAsync(encode(client, { model: 'any', version: '1', texts: ['a'] }))) as grpc.ServiceError;
  t.is(error.code, Status.UNAVAILABLE);
  t.regex(error.details, /model registry/);
  t.is(await healthStatus(health), 'NOT_SERVING');
  let ready = false;
  void service.ready.then(() => (ready = true));
  // A fixed wait on purpose: it proves that the service does not turn ready within 300 ms of a registry that is down.
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.false(ready);
});
