import * as grpc from '@grpc/grpc-js';
import type { ModelRegistryClient, ModelVersion__Output } from '@maas/protos';
import { downloadArtifact, versionFileDigest, VersionFileError, type ArtifactDigest } from '@maas/registry-client';
import { failedPrecondition, GrpcError, isServiceError, unaryCall, unavailable } from '@maas/shared';
import { performance } from 'node:perf_hooks';
import { checkLayoutFits, encodeBatch, layoutFromManifest, ManifestError, TokenizerFileError, type EncodingLayout, type TextTokenizer } from './encoder.js';
import type { EncodePool, TimedBatch } from './encode-pool.js';
import { tokenizerOfKind } from './tokenizer-kinds.js';

/** A model version's tokenizer, ready to encode. */
export interface LoadedTokenizer {
  readonly model: string;
  readonly version: string;
  readonly tokenizer: TextTokenizer;
  readonly layout: EncodingLayout;
  /** Encodes a batch: in the encode pool when its kind runs there, else on the event loop. */
  encode(texts: string[], options?: { narrowIntegers?: boolean }): Promise<TimedBatch>;
  /** Releases its copies in the encode workers (when the cache unloads it). */
  release?(): void;
}

export interface TokenizerLoaderOptions {
  registry: ModelRegistryClient;
  /** Where the registry is, for error messages. */
  registryAddress: string;
  /** Deadline of each registry call. */
  timeoutMs: number;
  /** Largest tokenizer file accepted. */
  maxFileBytes: number;
  /** Where slow tokenizer kinds encode; without one, every kind encodes on the event loop. */
  pool?: EncodePool;
  /** Kinds that encode in the pool (ENCODE_WORKER_KINDS). */
  workerKinds?: ReadonlySet<string>;
}

/** Registry codes that say something about the request or the artifact, and so pass through unchanged. */
const PASSED_THROUGH = new Set([grpc.status.NOT_FOUND, grpc.status.INVALID_ARGUMENT, grpc.status.DATA_LOSS]);

/**
 * What a registry failure means for our caller: NOT_FOUND (unknown model or version), INVALID_ARGUMENT
 * (a malformed name) and DATA_LOSS (a damaged artifact) pass through; anything else means the registry
 * cannot serve us right now: UNAVAILABLE.
 */
function registryFailure(error: unknown, options: TokenizerLoaderOptions, what: string): Error {
  if (isServiceError(error)) {
    if (PASSED_THROUGH.has(error.code)) return new GrpcError(error.code, error.details || error.message);
    return unavailable(`model registry at ${options.registryAddress} failed to ${what}: ${grpc.status[error.code]} ${error.details}`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** Streams one artifact and checks it against the digest the registry lists for it and the one it streams. */
async function downloadVerified(
  options: TokenizerLoaderOptions,
  request: { model: string; version: string; path: string },
  expected: ArtifactDigest,
): Promise<Buffer> {
  try {
    const downloaded = await downloadArtifact({
      registry: options.registry,
      request,
      deadline: options.timeoutMs,
      maxBytes: options.maxFileBytes,
      expected,
      sink: 'buffer',
      what: 'tokenizer',
    });
    return downloaded.data;
  } catch (error) {
    // Our own verdicts (DATA_LOSS for a mismatch) stand; a failed call says something about the registry.
    throw error instanceof GrpcError
      ? error
      : registryFailure(error, options, `download ${request.model} version ${request.version} file ${JSON.stringify(request.path)}`);
  }
}

/**
 * The encode function of a loaded tokenizer: registered in the pool (every worker builds its own copy from the
 * same text) when its kind encodes there, else encodeBatch on the event loop.
 */
function encoderFor(
  options: TokenizerLoaderOptions,
  spec: { kind: string; fileText: string; tokenizer: TextTokenizer; layout: EncodingLayout },
): Pick<LoadedTokenizer, 'encode' | 'release'> {
  const { pool } = options;
  if (pool && options.workerKinds?.has(spec.kind)) {
    const handle = pool.register({ kind: spec.kind, fileText: spec.fileText, layout: spec.layout });
    return { encode: (texts, encodeOptions) => pool.encode(handle, texts, encodeOptions), release: () => pool.unregister(handle) };
  }
  return {
    encode: async (texts, encodeOptions) => {
      const startedAt = performance.now();
      const batch = encodeBatch({ tokenizer: spec.tokenizer, layout: spec.layout, texts, narrowIntegers: encodeOptions?.narrowIntegers });
      return { ...batch, seconds: (performance.now() - startedAt) / 1000 };
    },
  };
}

/**
 * Loads a version's tokenizer from the registry: GetVersion for the manifest, DownloadArtifact for the
 * tokenizer file (sha256 and size verified), then parse. A package the service cannot use is
 * FAILED_PRECONDITION with the reason; a corrupt download is DATA_LOSS.
 */
export async function loadTokenizer(options: TokenizerLoaderOptions, model: string, version: string): Promise<LoadedTokenizer> {
  let found: ModelVersion__Output;
  try {
    found = await unaryCall<{ model: string; version: string }, ModelVersion__Output>(
      (request, metadata, callOptions, callback) => options.registry.GetVersion(request, metadata, callOptions, callback),
      { model, version },
      { deadline: options.timeoutMs },
    );
  } catch (error) {
    throw registryFailure(error, options, `get ${model} version ${version}`);
  }
  const manifest = found.manifest;
  const unusable = (why: string) => failedPrecondition(`${model} version ${version} has no usable tokenizer: ${why}`);
  if (!manifest?.tokenizer) throw unusable('its manifest has no tokenizer section');
  const path = manifest.tokenizer.file;
  if (!path) throw unusable('its manifest names no tokenizer file');
  let listed: ArtifactDigest;
  try {
    listed = versionFileDigest(found, path);
  } catch (error) {
    if (error instanceof VersionFileError) throw unusable(`its tokenizer ${error.message}`);
    throw error;
  }
  if (listed.size_bytes > options.maxFileBytes) {
    throw unusable(`its tokenizer file is ${listed.size_bytes} bytes; the limit is ${options.maxFileBytes} (MAX_TOKENIZER_FILE_BYTES)`);
  }

  try {
    const layout = layoutFromManifest(manifest);
    const bytes = await downloadVerified(options, { model, version, path }, listed);
    const fileText = bytes.toString('utf8');
    // Built here as well when it encodes in the pool: a bad file fails the load with its reason, and the
    // specials it adds are checked before any worker builds its copy.
    const tokenizer = tokenizerOfKind(manifest.tokenizer.kind, fileText);
    checkLayoutFits(layout, tokenizer);
    return { model, version, tokenizer, layout, ...encoderFor(options, { kind: manifest.tokenizer.kind, fileText, tokenizer, layout }) };
  } catch (error) {
    if (error instanceof ManifestError || error instanceof TokenizerFileError) throw unusable(error.message);
    throw error;
  }
}
