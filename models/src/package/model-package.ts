import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { validateManifest } from '@maas/protos';
import { MANIFEST_FILE, type MaasManifest } from './manifest.js';

export interface PackageFile {
  /** Path inside the package, "/"-separated. */
  path: string;
  data: Uint8Array | string;
}

export interface WritePackageOptions {
  /** The package folder, e.g. dist/sentiment/1; replaced if it exists. */
  dir: string;
  /** Everything but `files`, which is computed from what is written. */
  manifest: Omit<MaasManifest, 'files'>;
  files: readonly PackageFile[];
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * JSON as written into packages: two-space indent and a final newline, so files diff well, with
 * arrays of plain values (shapes, labels, matrix rows) kept on one line.
 */
export function packageJson(value: unknown): string {
  const text = JSON.stringify(value, null, 2);
  // Only newlines that JSON.stringify inserted can appear (it escapes those inside strings).
  return `${text.replace(/\[\n\s*([^[\]{}\n]*(?:\n\s*[^[\]{}\n]*)*?)\n\s*\]/g, (_, inner: string) => `[${inner.replace(/\n\s*/g, ' ')}]`)}\n`;
}

/**
 * Writes a model package: the files, then `maas.json` listing each of them with its sha256 and
 * size. The manifest is checked against the contract's rules first, so an invalid package never
 * replaces a good one; the folder is emptied before writing so that no stale file outlives a rebuild.
 */
export async function writeModelPackage(options: WritePackageOptions): Promise<MaasManifest> {
  const { dir, files } = options;
  // Spelled out key by key so that maas.json always has the documented key order.
  const m = options.manifest;
  const manifest: MaasManifest = {
    format_version: m.format_version,
    name: m.name,
    version: m.version,
    task: m.task,
    platform: m.platform,
    description: m.description,
    model_file: m.model_file,
    inputs: m.inputs,
    outputs: m.outputs,
    tokenizer: m.tokenizer,
    labels: m.labels,
    output_activation: m.output_activation,
    files: files.map((f) => ({
      path: f.path,
      sha256: sha256Hex(f.data),
      size_bytes: typeof f.data === 'string' ? Buffer.byteLength(f.data, 'utf8') : f.data.byteLength,
    })),
    metrics: m.metrics,
    // Only when the package has one: a package without it keeps the manifest it always had.
    ...(m.evaluation_file ? { evaluation_file: m.evaluation_file } : {}),
  };
  const validation = validateManifest(manifest);
  if (!validation.ok) throw new Error(`invalid manifest for ${m.name}/${m.version}: ${validation.problems.join('; ')}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const f of files) {
    const target = join(dir, ...f.path.split('/'));
    await mkdir(join(target, '..'), { recursive: true });
    await writeFile(target, f.data);
  }
  await writeFile(join(dir, MANIFEST_FILE), packageJson(manifest));
  return manifest;
}

export interface PackageVerification {
  manifest: MaasManifest | null;
  problems: string[];
}

/**
 * Reads a package folder and checks it: the manifest against the contract's rules (which include
 * the model and tokenizer files being listed), then every listed file present with the stated size
 * and sha256.
 */
export async function verifyModelPackage(dir: string): Promise<PackageVerification> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8'));
  } catch (err) {
    return { manifest: null, problems: [`cannot read ${MANIFEST_FILE}: ${(err as Error).message}`] };
  }
  const validation = validateManifest(parsed);
  if (!validation.ok) return { manifest: null, problems: validation.problems };
  const problems: string[] = [];
  // The normalized files: sizes are numbers even where the JSON wrote them as proto3 int64 strings.
  for (const f of validation.manifest.files) {
    let data: Buffer;
    try {
      data = await readFile(join(dir, ...f.path.split('/')));
    } catch {
      problems.push(`files: ${f.path} is missing`);
      continue;
    }
    if (data.byteLength !== f.size_bytes) problems.push(`files: ${f.path} has ${data.byteLength} bytes, manifest says ${f.size_bytes}`);
    if (sha256Hex(data) !== f.sha256) problems.push(`files: ${f.path} sha256 does not match`);
  }
  return { manifest: parsed as MaasManifest, problems };
}
