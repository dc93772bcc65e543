/**
 * Model packages for tests: valid manifests shaped like the example packages (protos/maas/v1/manifest.proto),
 * their files with sha256 digests, written as a package folder (maas.json beside the files) or streamed to a
 * registry with RegisterVersion. Every workspace's tests import it by relative path; it depends on nothing
 * but @maas/protos types, so the contract's own tests can use it too.
 */
import { createHash, randomBytes } from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ModelManifest, ModelManifest__Output, ModelRegistryClient, ModelVersion__Output, RegisterVersionRequest } from '@maas/protos';

/** What every example manifest has besides its name and version. */
const TEXT_CLASSIFIER = { format_version: 1, task: 'text-classification', platform: 'onnxruntime_onnx', model_file: 'model.onnx' };

/**
 * The fields of the example packages `npm run models` builds (models/dist/<model>/<version>/maas.json), as the
 * registry serves them (outputs with an empty role). Fake packages copy the sentiment one, so that what a test
 * registers looks like what the mesh really serves.
 */
export const EXAMPLE_MANIFESTS = {
  /** sentiment/1 (fp32) and sentiment/2 (int8): Keras tokenizer pre/pre, 100 ids in, P(positive) out. */
  sentiment: {
    ...TEXT_CLASSIFIER,
    name: 'sentiment',
    inputs: [{ name: 'input_ids', datatype: 'INT64', shape: [-1, 100], role: 'input_ids' }],
    outputs: [{ name: 'probability', datatype: 'FP32', shape: [-1, 1], role: '' }],
    tokenizer: { kind: 'keras', file: 'tokenizer.json', max_length: 100, padding_side: 'pre', truncation_side: 'pre', pad_id: 0 },
    labels: ['negative', 'positive'],
    output_activation: 'none',
  },
  /** encoder-bench/1: WordPiece tokenizer post/post, ids and mask of 128 in, two logits out. */
  encoderBench: {
    ...TEXT_CLASSIFIER,
    name: 'encoder-bench',
    inputs: [
      { name: 'input_ids', datatype: 'INT64', shape: [-1, 128], role: 'input_ids' },
      { name: 'attention_mask', datatype: 'INT64', shape: [-1, 128], role: 'attention_mask' },
    ],
    outputs: [{ name: 'logits', datatype: 'FP32', shape: [-1, 2], role: '' }],
    tokenizer: { kind: 'huggingface', file: 'tokenizer.json', max_length: 128, padding_side: 'post', truncation_side: 'post', pad_id: 0 },
    labels: ['negative', 'positive'],
    output_activation: 'softmax',
  },
} satisfies Record<string, Omit<ModelManifest__Output, 'version' | 'description' | 'files' | 'metrics' | 'evaluation_file'>>;

/**
 * A valid manifest with every field present (as the registry serves it), shaped like the sentiment example;
 * `overrides` replace whole fields. `files` is empty: `modelPackage` fills it from the files.
 */
export function testManifest(overrides: Partial<ModelManifest__Output> = {}): ModelManifest__Output {
  // A deep copy: tests change the manifests they get, never the examples.
  return structuredClone({
    ...EXAMPLE_MANIFESTS.sentiment,
    name: 'test-model',
    version: '1',
    description: '',
    files: [],
    metrics: {},
    evaluation_file: '',
    ...overrides,
  });
}

/** A Keras tokenizer file (Tokenizer.to_json()) with a two-word vocabulary: loads in the registry and the tokenizer. */
export const KERAS_TOKENIZER_JSON = Buffer.from(JSON.stringify({ class_name: 'Tokenizer', config: { word_index: JSON.stringify({ good: 1, bad: 2 }) } }));

export const sha256Hex = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

/** A file of a package: its '/'-separated path inside the package and its bytes. */
export interface PackageFile {
  path: string;
  data: Buffer;
}

/** A package in memory: its manifest, whose `files` lists the digests of `files`. */
export interface ModelPackage<Manifest extends ModelManifest = ModelManifest__Output> {
  manifest: Manifest;
  files: PackageFile[];
}

/** The package of `manifest` and `files`: the manifest's `files` becomes each file's path, sha256 and size, in order. */
export function modelPackage<Manifest extends ModelManifest>(manifest: Manifest, files: PackageFile[]): ModelPackage<Manifest> {
  return { manifest: { ...manifest, files: files.map((file) => ({ path: file.path, sha256: sha256Hex(file.data), size_bytes: file.data.length })) }, files };
}

export interface FakePackageOptions {
  name: string;
  version: string;
  /** Size of model.onnx, random bytes (default 4096): nothing loads it as a model. */
  modelBytes?: number;
  /** Files after model.onnx and tokenizer.json. */
  extraFiles?: PackageFile[];
  /** Manifest fields to change (files excepted). */
  manifest?: Partial<ModelManifest__Output>;
}

/** A sentiment-shaped package whose model file is random bytes and whose tokenizer is KERAS_TOKENIZER_JSON. */
export function fakePackage(options: FakePackageOptions): ModelPackage {
  const files = [
    { path: 'model.onnx', data: randomBytes(options.modelBytes ?? 4096) },
    { path: 'tokenizer.json', data: KERAS_TOKENIZER_JSON },
    ...(options.extraFiles ?? []),
  ];
  return modelPackage(
    testManifest({ name: options.name, version: options.version, description: 'a fake package for tests', metrics: { accuracy: 0.875 }, ...options.manifest }),
    files,
  );
}

export function makeTempDir(prefix = 'maas-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Writes a package folder as `npm run models` does (its files, then maas.json); a new temp folder unless `dir` is given. */
export async function writePackageDir(pkg: ModelPackage<ModelManifest>, dir?: string): Promise<string> {
  const target = dir ?? (await makeTempDir('maas-package-'));
  for (const file of pkg.files) {
    await fs.mkdir(path.dirname(path.join(target, file.path)), { recursive: true });
    await fs.writeFile(path.join(target, file.path), file.data);
  }
  await fs.writeFile(path.join(target, 'maas.json'), JSON.stringify(pkg.manifest, null, 2));
  return target;
}

/** `fakePackage` written as a package folder. */
export async function writeFakePackage(options: FakePackageOptions & { dir?: string }): Promise<ModelPackage & { dir: string }> {
  const pkg = fakePackage(options);
  return { ...pkg, dir: await writePackageDir(pkg, options.dir) };
}

/** Reads a package folder (models/dist/<model>/<version>, say): its maas.json and the files it lists. */
export async function readPackageDir(dir: string): Promise<ModelPackage<ModelManifest>> {
  const manifest = JSON.parse(await fs.readFile(path.join(dir, 'maas.json'), 'utf8')) as ModelManifest;
  const files = await Promise.all((manifest.files ?? []).map(async (file) => ({ path: file.path!, data: await fs.readFile(path.join(dir, file.path!)) })));
  return { manifest, files };
}

let modelCounter = 0;
/** A model name no other test (or earlier run against the same NATS) uses. */
export function uniqueModelName(prefix = 'test'): string {
  modelCounter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${modelCounter}`;
}

/** The messages of a normal RegisterVersion upload: the manifest, then each file in `chunkBytes` chunks (an empty file as one empty chunk). */
export function registerVersionMessages(pkg: ModelPackage<ModelManifest>, chunkBytes = 64 * 1024): RegisterVersionRequest[] {
  const messages: RegisterVersionRequest[] = [{ manifest: pkg.manifest }];
  for (const file of pkg.files) {
    for (let offset = 0; offset < file.data.length || offset === 0; offset += chunkBytes) {
      messages.push({ chunk: { path: file.path, data: file.data.subarray(offset, offset + chunkBytes) } });
      if (file.data.length === 0) break;
    }
  }
  return messages;
}

/** Streams `messages` to RegisterVersion, as is: tests of malformed uploads pass their own. */
export function uploadPackage(
  client: ModelRegistryClient,
  messages: RegisterVersionRequest[],
  options: { deadlineMs?: number } = {},
): Promise<ModelVersion__Output> {
  return new Promise((resolve, reject) => {
    const call = client.RegisterVersion({ deadline: Date.now() + (options.deadlineMs ?? 10_000) }, (error, response) =>
      error ? reject(error) : resolve(response!),
    );
    for (const message of messages) call.write(message);
    call.end();
  });
}

/** Registers a package over gRPC the way a client should: the manifest, then each file's chunks. */
export function registerPackage(
  client: ModelRegistryClient,
  pkg: ModelPackage<ModelManifest>,
  options: { chunkBytes?: number } = {},
): Promise<ModelVersion__Output> {
  return uploadPackage(client, registerVersionMessages(pkg, options.chunkBytes));
}

/** Copies a package under another version label, optionally with a model file that cannot load. */
export function repackage(source: string, target: string, options: { version: string; brokenModel?: boolean }): string {
  fsSync.cpSync(source, target, { recursive: true });
  const manifestPath = path.join(target, 'maas.json');
  const manifest = JSON.parse(fsSync.readFileSync(manifestPath, 'utf8'));
  manifest.version = options.version;
  if (options.brokenModel) {
    const bytes = randomBytes(2048);
    fsSync.writeFileSync(path.join(target, manifest.model_file), bytes);
    const entry = manifest.files.find((file: { path: string }) => file.path === manifest.model_file);
    entry.sha256 = createHash('sha256').update(bytes).digest('hex');
    entry.size_bytes = bytes.length;
  }
  fsSync.writeFileSync(manifestPath, JSON.stringify(manifest));
  return target;
}
