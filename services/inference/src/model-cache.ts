/**
 * The on-disk cache of model files, content-addressed: `<MODEL_CACHE_DIR>/<sha256>.onnx`. A file is fetched
 * from the registry (DownloadArtifact stream, through the registry client's `downloadArtifact`) into a temporary name
 * while it is hashed, checked against the expected sha256 and size (DATA_LOSS when it differs), then renamed
 * into place, so a half-written or corrupt file never carries a valid name. A cached file is re-hashed before
 * use; one that does not match is fetched again. Entries stay after their version is unloaded (a rollback then
 * loads without a download); clearing the directory is safe.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ModelRegistryClient } from '@maas/protos';
import { downloadArtifact } from '@maas/registry-client';

/** What the file must be. */
export interface ExpectedFile {
  /** Path inside the package (for messages and the download request). */
  path: string;
  sha256: string;
  size: number;
}

export interface FetchModelFileOptions {
  registry: ModelRegistryClient;
  model: string;
  version: string;
  file: ExpectedFile;
  cacheDir: string;
  /** Deadline of the download, in ms. */
  timeoutMs: number;
}

async function sha256OfFile(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of fs.createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).byteLength;
  }
  return { sha256: hash.digest('hex'), size };
}

/** Path of the verified file in the cache, downloading it when needed. */
export async function fetchModelFile(options: FetchModelFileOptions): Promise<{ path: string; downloaded: boolean }> {
  const { file, cacheDir } = options;
  if (!/^[0-9a-f]{64}$/.test(file.sha256)) throw new Error(`artifact ${file.path} has no valid sha256 (${JSON.stringify(file.sha256)})`);
  await fs.promises.mkdir(cacheDir, { recursive: true });
  const target = path.join(cacheDir, `${file.sha256}.onnx`);

  if (fs.existsSync(target)) {
    const cached = await sha256OfFile(target);
    if (cached.sha256 === file.sha256 && cached.size === file.size) return { path: target, downloaded: false };
    await fs.promises.rm(target, { force: true });
  }

  const temporary = path.join(cacheDir, `.download-${file.sha256.slice(0, 16)}-${randomBytes(6).toString('hex')}`);
  try {
    await downloadArtifact({
      registry: options.registry,
      request: { model: options.model, version: options.version, path: file.path },
      deadline: options.timeoutMs,
      maxBytes: file.size,
      expected: { sha256: file.sha256, size_bytes: file.size },
      sink: { file: temporary },
      what: 'model file',
    });
    await fs.promises.rename(temporary, target);
    return { path: target, downloaded: true };
  } finally {
    await fs.promises.rm(temporary, { force: true });
  }
}
