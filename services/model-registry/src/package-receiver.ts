/**
 * Receives one RegisterVersion stream: the manifest first, then each file's chunks (consecutive), staged to temp
 * files and hashed while they arrive. Nothing here touches the blob store's final paths or the database: a
 * failed or cancelled upload leaves only its staging area, which the caller discards.
 */
import {
  canonicalManifestJson,
  MANIFEST_FILE,
  validateManifest,
  type FileDigest__Output,
  type ModelManifest__Output,
  type RegisterVersionRequest__Output,
} from '@maas/protos';
import { invalidArgument, quote } from '@maas/shared';
import type { BlobWriter, StagedFile, StagingArea } from './blob-store.js';

/** sha256 of zero bytes: an empty file needs no chunk to arrive. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** A package whose files all arrived and matched the manifest. */
export interface ReceivedPackage {
  manifest: ModelManifest__Output;
  /** The canonical maas.json text (also staged as the last file). */
  manifestJson: string;
  /** Every file staged, in manifest order, followed by maas.json (the canonical manifest). */
  files: Array<{ path: string; staged: StagedFile }>;
}

export interface ReceivePackageOptions {
  messages: AsyncIterable<RegisterVersionRequest__Output>;
  staging: StagingArea;
  limits: { maxFileBytes: number; maxPackageBytes: number };
  /** Called once the manifest is valid, before any file is received: throws to refuse early (ALREADY_EXISTS). */
  accept(manifest: ModelManifest__Output): void;
  /** Counts file bytes as they arrive (metrics). */
  onBytes?(bytes: number): void;
}

export async function receivePackage(options: ReceivePackageOptions): Promise<ReceivedPackage> {
  let manifest: ModelManifest__Output | undefined;
  let expected = new Map<string, FileDigest__Output>();
  const received = new Map<string, StagedFile>();
  let current: { path: string; writer: BlobWriter; digest: FileDigest__Output } | undefined;

  const finishCurrent = async () => {
    if (!current) return;
    const { path, writer, digest } = current;
    current = undefined;
    const staged = await writer.finish();
    received.set(path, checkFile(path, staged, digest));
  };

  for await (const message of options.messages) {
    if (!manifest) {
      if (message.part !== 'manifest' || !message.manifest) throw invalidArgument('the first message must carry the manifest');
      const validation = validateManifest(message.manifest, options.limits);
      if (!validation.ok) throw invalidArgument(`invalid manifest: ${summarizeProblems(validation.problems)}`);
      manifest = validation.manifest;
      options.accept(manifest);
      expected = new Map(manifest.files.map((file) => [file.path, file]));
      continue;
    }
    if (message.part !== 'chunk' || !message.chunk) throw invalidArgument('only the first message may carry a manifest; the rest must be file chunks');
    const { path, data } = message.chunk;
    if (current?.path !== path) {
      await finishCurrent();
      const digest = expected.get(path);
      if (!digest) {
        const hint = path === MANIFEST_FILE ? ` (${MANIFEST_FILE} is the manifest itself: send it as the first message, not as a file)` : '';
        throw invalidArgument(`file ${quote(path)} is not listed in the manifest's files${hint}`);
      }
      if (received.has(path)) throw invalidArgument(`chunks of file ${quote(path)} must be consecutive`);
      current = { path, writer: await options.staging.createWriter(), digest };
    }
    // Declared sizes were checked against the limits with the manifest; holding every file to its declared
    // size keeps the upload within them while it streams.
    if (current.writer.bytesWritten + data.length > current.digest.size_bytes) {
      throw invalidArgument(`file ${quote(path)} is larger than the ${current.digest.size_bytes} bytes the manifest declares`);
    }
    await current.writer.write(data);
    options.onBytes?.(data.length);
  }
  if (!manifest) throw invalidArgument('the stream is empty: the first message must carry the manifest');
  await finishCurrent();

  const missing: string[] = [];
  for (const file of manifest.files) {
    if (received.has(file.path)) continue;
    if (file.size_bytes === 0 && file.sha256 === EMPTY_SHA256) received.set(file.path, await options.staging.writeBuffer(new Uint8Array(0)));
    else missing.push(quote(file.path));
  }
  if (missing.length > 0) throw invalidArgument(`files listed in the manifest did not arrive: ${missing.join(', ')}`);

  const manifestJson = canonicalManifestJson(manifest);
  const manifestFile = await options.staging.writeBuffer(Buffer.from(manifestJson, 'utf8'));
  return {
    manifest,
    manifestJson,
    files: [...manifest.files.map((file) => ({ path: file.path, staged: received.get(file.path)! })), { path: MANIFEST_FILE, staged: manifestFile }],
  };
}

/**
 * The status message travels in HTTP/2 trailers, which clients cap (grpc-js: 8 KiB of metadata): a manifest
 * with thousands of bad entries gets its first problems and a count instead of a failed response.
 */
const MAX_PROBLEMS_TEXT = 4_000;

export function summarizeProblems(problems: readonly string[]): string {
  let text = '';
  for (const [index, problem] of problems.entries()) {
    const next = text ? `${text}; ${problem}` : problem;
    if (next.length > MAX_PROBLEMS_TEXT && index > 0) return `${text}; … and ${problems.length - index} more problems`;
    text = next;
  }
  return text;
}

function checkFile(path: string, staged: StagedFile, digest: FileDigest__Output): StagedFile {
  if (staged.sizeBytes !== digest.size_bytes) {
    throw invalidArgument(`file ${quote(path)}: received ${staged.sizeBytes} bytes, the manifest declares ${digest.size_bytes}`);
  }
  if (staged.sha256 !== digest.sha256) {
    throw invalidArgument(`file ${quote(path)}: sha256 of the received bytes is ${staged.sha256}, the manifest declares ${digest.sha256}`);
  }
  return staged;
}
