/**
 * Test fixtures: a small but real model package (maas.json with the digests of its files) and helpers to run a
 * registry on port 0 and talk to it over real gRPC.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  contracts,
  type ArtifactChunk__Output,
  type ListModelsResponse__Output,
  type Model__Output,
  type ModelManifest,
  type ModelRegistryClient,
  type ModelVersion__Output,
  type RegisterVersionRequest,
  type Rollout__Output,
  type SetRolloutRequest,
} from '@maas/protos';
import { createClient, createLogger } from '@maas/shared';
import { loadConfig, startRegistryService, type RunningRegistry } from '../src/index.js';

export const silentLogger = createLogger({ service: 'model-registry-test', level: 'silent' });

export const sha256Hex = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

export interface FakePackage {
  dir: string;
  manifest: ModelManifest;
  files: Array<{ path: string; data: Buffer }>;
}

let counter = 0;
/** A model name no other test (or earlier run against the same NATS) uses. */
export function uniqueModelName(prefix = 'test'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

export async function makeTempDir(prefix = 'maas-registry-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/**
 * Writes a package directory: a model file of `modelBytes` random bytes, a Keras-style tokenizer file and a
 * nested vocabulary file, and maas.json listing their sha256 and sizes.
 */
export async function writeFakePackage(options: { name: string; version: string; modelBytes?: number; dir?: string }): Promise<FakePackage> {
  const dir = options.dir ?? (await makeTempDir('maas-package-'));
  const files = [
    { path: 'model.onnx', data: randomBytes(options.modelBytes ?? 4096) },
    { path: 'tokenizer.json', data: Buffer.from(JSON.stringify({ class_name: 'Tokenizer', config: { word_index: JSON.stringify({ good: 1, bad: 2 }) } })) },
    { path: 'extra/notes.txt', data: Buffer.from(`package ${options.name} ${options.version}\n`) },
  ];
  const manifest: ModelManifest = {
    format_version: 1,
    name: options.name,
    version: options.version,
    task: 'text-classification',
    platform: 'onnxruntime_onnx',
    description: 'a fake package for tests',
    model_file: 'model.onnx',
    inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [-1, 100], role: 'input_ids' }],
    outputs: [{ name: 'probability', datatype: 'FP32', shape: [-1, 1] }],
    tokenizer: { kind: 'keras', file: 'tokenizer.json', max_length: 100, padding_side: 'pre', truncation_side: 'pre', pad_id: 0 },
    labels: ['negative', 'positive'],
    output_activation: 'none',
    files: files.map((file) => ({ path: file.path, sha256: sha256Hex(file.data), size_bytes: file.data.length })),
    metrics: { accuracy: 0.875 },
  };
  for (const file of files) {
    await fs.mkdir(path.dirname(path.join(dir, file.path)), { recursive: true });
    await fs.writeFile(path.join(dir, file.path), file.data);
  }
  await fs.writeFile(path.join(dir, 'maas.json'), JSON.stringify(manifest, null, 2));
  return { dir, manifest, files };
}

/** A TCP port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface TestRegistry {
  registry: RunningRegistry;
  client: ModelRegistryClient;
  dataDir: string;
  close(): Promise<void>;
}

/** Starts a registry on port 0 over `dataDir` (a new temp folder by default). */
export async function startTestRegistry(options: { dataDir?: string; natsUrl?: string; env?: Record<string, string> } = {}): Promise<TestRegistry> {
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await makeTempDir());
  const natsUrl = options.natsUrl ?? `nats://127.0.0.1:${await closedPort()}`;
  const config = loadConfig({
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    METRICS_PORT: '0',
    SHUTDOWN_GRACE_MS: '0',
    SHUTDOWN_DEADLINE_MS: '2000',
    REGISTRY_DATA_DIR: dataDir,
    NATS_URL: natsUrl,
    ...options.env,
  });
  const registry = await startRegistryService(config, { logger: silentLogger });
  const client = createClient(contracts().maas.v1.ModelRegistry, `127.0.0.1:${registry.port}`);
  return {
    registry,
    client,
    dataDir,
    async close() {
      client.close();
      await registry.stop();
      if (ownsDataDir) await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Streams a package the way a client should: manifest, then each file's chunks. */
export function upload(
  client: ModelRegistryClient,
  messages: RegisterVersionRequest[],
  options: { deadlineMs?: number } = {},
): Promise<ModelVersion__Output> {
  return new Promise((resolve, reject) => {
    const call = client.RegisterVersion({ deadline: Date.now() + (options.deadlineMs ?? 10_000) }, (error, response) => (error ? reject(error) : resolve(response!)));
    for (const message of messages) call.write(message);
    call.end();
  });
}

/** The messages of a normal upload of `pkg` (files split into `chunkBytes` chunks). */
export function packageMessages(pkg: Pick<FakePackage, 'manifest' | 'files'>, chunkBytes = 1024): RegisterVersionRequest[] {
  const messages: RegisterVersionRequest[] = [{ manifest: pkg.manifest }];
  for (const file of pkg.files) {
    for (let offset = 0; offset < file.data.length || offset === 0; offset += chunkBytes) {
      messages.push({ chunk: { path: file.path, data: file.data.subarray(offset, offset + chunkBytes) } });
      if (file.data.length === 0) break;
    }
  }
  return messages;
}

/** Downloads one artifact: every chunk, concatenated. */
export function download(client: ModelRegistryClient, request: { model: string; version: string; path: string }): Promise<{ chunks: ArtifactChunk__Output[]; data: Buffer }> {
  return new Promise((resolve, reject) => {
    const chunks: ArtifactChunk__Output[] = [];
    const call = client.DownloadArtifact(request, { deadline: Date.now() + 10_000 });
    call.on('data', (chunk: ArtifactChunk__Output) => chunks.push(chunk));
    call.on('error', reject);
    call.on('end', () => resolve({ chunks, data: Buffer.concat(chunks.map((chunk) => chunk.data)) }));
  });
}

/** Promise forms of the registry's unary calls, each with a 10 s deadline. */
export function rpc(client: ModelRegistryClient) {
  const options = () => ({ deadline: Date.now() + 10_000 });
  const unary = <Res>(invoke: (callback: grpc.requestCallback<Res>) => unknown) =>
    new Promise<Res>((resolve, reject) => invoke((error, response) => (error ? reject(error) : resolve(response!))));
  return {
    listModels: () => unary<ListModelsResponse__Output>((cb) => client.ListModels({}, options(), cb)),
    getModel: (name: string) => unary<Model__Output>((cb) => client.GetModel({ name }, options(), cb)),
    getVersion: (model: string, version: string) => unary<ModelVersion__Output>((cb) => client.GetVersion({ model, version }, options(), cb)),
    setRollout: (request: SetRolloutRequest) => unary<Rollout__Output>((cb) => client.SetRollout(request, options(), cb)),
  };
}

/** Polls `condition` until it holds or `timeoutMs` passes (waiting for a background effect, not timing it). */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return condition();
}
