import * as grpc from '@grpc/grpc-js';
import type { ModelRegistryClient, ModelVersion__Output } from '@maas/protos';
import { downloadArtifact, versionFileDigest, VersionFileError, type ArtifactDigest } from '@maas/registry-client';
import { failedPrecondition, GrpcError, isServiceError, unaryCall, unavailable } from '@maas/shared';
import { checkLayoutFits, layoutFromManifest, ManifestError, TokenizerFileError, type EncodingLayout, type TextTokenizer } from './encoder.js';
import { huggingfaceTokenizer } from './huggingface-encoder.js';
import { kerasTokenizer } from './keras-encoder.js';

/** A model version's tokenizer, ready to encode. */
export interface LoadedTokenizer {
  readonly model: string;
  readonly version: string;
  readonly tokenizer: TextTokenizer;
  readonly layout: EncodingLayout;
}

export interface TokenizerLoaderOptions {
  registry: ModelRegistryClient;
  /** Where the registry is, for error messages. */
  registryAddress: string;
  /** Deadline of each registry call. */
  timeoutMs: number;
  /** Largest tokenizer file accepted. */
  maxFileBytes: number;
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
async function downloadVerified(options: TokenizerLoaderOptions, request: { model: string; version: string; path: string }, expected: ArtifactDigest): Promise<Buffer> {
  try {
    const downloaded = await downloadArtifact({ registry: options.registry, request, deadline: options.timeoutMs, maxBytes: options.maxFileBytes, expected, sink: 'buffer', what: 'tokenizer' });
    return downloaded.data;
  } catch (error) {
    // Our own verdicts (DATA_LOSS for a mismatch) stand; a failed call says something about the registry.
    throw error instanceof GrpcError ? error : registryFailure(error, options, `download ${request.model} version ${request.version} file ${JSON.stringify(request.path)}`);
  }
}

/** Builds the tokenizer of one kind from its file's text. */
function tokenizerOfKind(kind: string, fileText: string): TextTokenizer {
  if (kind === 'keras') return kerasTokenizer(fileText);
  if (kind === 'huggingface') return huggingfaceTokenizer(fileText);
  throw new TokenizerFileError(`tokenizer kind ${JSON.stringify(kind)} is not supported (keras, huggingface)`);
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
    const tokenizer = tokenizerOfKind(manifest.tokenizer.kind, bytes.toString('utf8'));
    checkLayoutFits(layout, tokenizer);
    return { model, version, tokenizer, layout };
  } catch (error) {
    if (error instanceof ManifestError || error instanceof TokenizerFileError) throw unusable(error.message);
    throw error;
  }
}
