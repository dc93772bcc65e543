/**
 * The real model registry, started in-process on port 0 with a temp data folder, and helpers that register
 * packages and set rollouts over gRPC (as maasctl would).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ModelManifest, ModelRegistryClient, ModelVersion__Output, Rollout__Output, SetRolloutRequest } from '@maas/protos';
import { contracts } from '@maas/protos';
import { createClient, type Logger, unaryCall } from '@maas/shared';
import { loadConfig as loadRegistryConfig, startRegistryService, type RunningRegistry } from '@maas/model-registry';

export interface RegistryFixture {
  registry: RunningRegistry;
  client: ModelRegistryClient;
  address: string;
  stop(): Promise<void>;
}

export async function startRegistry(options: { dataDir: string; logger: Logger }): Promise<RegistryFixture> {
  const config = loadRegistryConfig({ GRPC_HOST: '127.0.0.1', GRPC_PORT: '0', METRICS_PORT: '-1', REGISTRY_DATA_DIR: options.dataDir, SHUTDOWN_GRACE_MS: '0', LOG_LEVEL: 'warn' });
  const registry = await startRegistryService(config, { logger: options.logger });
  const address = `127.0.0.1:${registry.port}`;
  const client = createClient(contracts().maas.v1.ModelRegistry, address);
  return {
    registry,
    client,
    address,
    async stop() {
      client.close();
      await registry.stop();
    },
  };
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Registers a package (manifest + files) with RegisterVersion; fills the manifest's file digests. */
export function registerPackage(client: ModelRegistryClient, manifest: ModelManifest, files: Record<string, Uint8Array>): Promise<ModelVersion__Output> {
  const withDigests: ModelManifest = {
    ...manifest,
    files: Object.entries(files).map(([file, data]) => ({ path: file, sha256: sha256(data), size_bytes: data.byteLength })),
  };
  return new Promise((resolve, reject) => {
    const call = client.RegisterVersion((error, response) => (error ? reject(error) : resolve(response!)));
    call.write({ manifest: withDigests });
    for (const [file, data] of Object.entries(files)) {
      for (let offset = 0; offset < data.byteLength; offset += 64 * 1024) {
        call.write({ chunk: { path: file, data: Buffer.from(data.subarray(offset, offset + 64 * 1024)) } });
      }
    }
    call.end();
  });
}

/** Registers a built package folder (models/dist/<model>/<version>) as it is on disk. */
export function registerPackageDir(client: ModelRegistryClient, dir: string): Promise<ModelVersion__Output> {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'maas.json'), 'utf8')) as ModelManifest;
  const files = Object.fromEntries((manifest.files ?? []).map((file) => [file.path!, fs.readFileSync(path.join(dir, file.path!))]));
  return registerPackage(client, manifest, files);
}

export function setRollout(client: ModelRegistryClient, request: SetRolloutRequest): Promise<Rollout__Output> {
  return unaryCall((req: SetRolloutRequest, md, opts, cb) => client.SetRollout(req, md, opts, cb), request, { deadline: 10_000 });
}

/** A text-classification manifest around a test model (the registry only takes such packages). */
export function classifierManifest(options: {
  name: string;
  version: string;
  inputShape: number[];
  output: { name: string; shape: number[] };
  paddingSide?: 'pre' | 'post';
}): ModelManifest {
  return {
    format_version: 1,
    name: options.name,
    version: options.version,
    task: 'text-classification',
    platform: 'onnxruntime_onnx',
    description: 'test model',
    model_file: 'model.onnx',
    inputs: [{ name: 'input_ids', datatype: 'INT64', shape: options.inputShape, role: 'input_ids' }],
    outputs: [{ name: options.output.name, datatype: 'FP32', shape: options.output.shape, role: '' }],
    tokenizer: { kind: 'keras', file: 'tokenizer.json', max_length: options.inputShape[1]! > 0 ? options.inputShape[1]! : 16, padding_side: options.paddingSide ?? 'pre', truncation_side: 'pre', pad_id: 0 },
    labels: ['negative', 'positive'],
    output_activation: 'none',
  };
}

/** Placeholder tokenizer file (the inference service never reads it). */
export const TOKENIZER_FILE = new TextEncoder().encode(JSON.stringify({ class_name: 'Tokenizer', config: { word_index: '{"good": 1, "bad": 2}' } }));
