/**
 * The real model registry, started in-process on port 0 with a temp data folder, and helpers that register
 * packages and set rollouts over gRPC (as maasctl would). A thin layer over the shared test support
 * (test/support), in the shapes the inference tests and the benchmark use.
 */
import type { ModelManifest, ModelManifest__Output, ModelRegistryClient, ModelVersion__Output, Rollout__Output, SetRolloutRequest } from '@maas/protos';
import type { Logger } from '@maas/shared';
import {
  KERAS_TOKENIZER_JSON,
  modelPackage,
  readPackageDir,
  registerPackage as registerModelPackage,
  testManifest,
} from '../../../../test/support/model-packages.js';
import { registryCalls, startTestRegistry, type TestRegistry } from '../../../../test/support/test-registry.js';

export type RegistryFixture = TestRegistry;

/** A registry on the default NATS_URL, as the inference service under test uses, so events reach it when NATS runs. */
export function startRegistry(options: { dataDir: string; logger: Logger }): Promise<RegistryFixture> {
  return startTestRegistry({ ...options, natsUrl: null, env: { METRICS_PORT: '-1' } });
}

/** Registers a package (manifest + files) with RegisterVersion; fills the manifest's file digests. */
export function registerPackage(client: ModelRegistryClient, manifest: ModelManifest, files: Record<string, Uint8Array>): Promise<ModelVersion__Output> {
  return registerModelPackage(
    client,
    modelPackage(
      manifest,
      Object.entries(files).map(([path, data]) => ({ path, data: Buffer.from(data) })),
    ),
  );
}

/** Registers a built package folder (models/dist/<model>/<version>) as it is on disk. */
export async function registerPackageDir(client: ModelRegistryClient, dir: string): Promise<ModelVersion__Output> {
  return registerModelPackage(client, await readPackageDir(dir));
}

export function setRollout(client: ModelRegistryClient, request: SetRolloutRequest): Promise<Rollout__Output> {
  return registryCalls(client).setRollout(request);
}

/** A text-classification manifest around a test model (the registry only takes such packages). */
export function classifierManifest(options: {
  name: string;
  version: string;
  inputShape: number[];
  output: { name: string; shape: number[] };
  paddingSide?: 'pre' | 'post';
}): ModelManifest__Output {
  return testManifest({
    name: options.name,
    version: options.version,
    description: 'test model',
    inputs: [{ name: 'input_ids', datatype: 'INT64', shape: options.inputShape, role: 'input_ids' }],
    outputs: [{ name: options.output.name, datatype: 'FP32', shape: options.output.shape, role: '' }],
    tokenizer: {
      kind: 'keras',
      file: 'tokenizer.json',
      max_length: options.inputShape[1]! > 0 ? options.inputShape[1]! : 16,
      padding_side: options.paddingSide ?? 'pre',
      truncation_side: 'pre',
      pad_id: 0,
    },
  });
}

/** Placeholder tokenizer file (the inference service never reads it). */
export const TOKENIZER_FILE: Uint8Array = KERAS_TOKENIZER_JSON;
