/**
 * Which digest a version's file must have. A version lists each file twice: in its manifest (`files`, what
 * the package declares) and in `artifacts` (what the registry stored and streams). The registry checks them
 * against each other at registration, so they agree; a consumer still refuses a version where they do not,
 * rather than trusting one side. Tokenizer and inference files are found by this one rule.
 */
import type { ModelVersion__Output } from '@maas/protos';
import type { ArtifactDigest } from './artifact-download.js';

/** A version's file cannot be fetched as listed: not listed at all, or listed with two different digests. */
export class VersionFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VersionFileError';
  }
}

/**
 * The sha256 and size `path` must have in `version`: the registry's artifact entry and the manifest's file
 * entry, whichever exist; when both exist they must agree. Throws VersionFileError otherwise.
 */
export function versionFileDigest(version: Pick<ModelVersion__Output, 'artifacts' | 'manifest'>, path: string): ArtifactDigest {
  const artifact = version.artifacts.find((entry) => entry.path === path);
  const declared = version.manifest?.files.find((entry) => entry.path === path);
  const named = JSON.stringify(path);
  if (!artifact && !declared) throw new VersionFileError(`file ${named} is not among the version's files`);
  if (artifact && declared && (artifact.sha256 !== declared.sha256 || Number(artifact.size_bytes) !== Number(declared.size_bytes))) {
    throw new VersionFileError(
      `file ${named}: the manifest lists sha256 ${declared.sha256} (${declared.size_bytes} bytes), the registry stores ${artifact.sha256} (${artifact.size_bytes} bytes)`,
    );
  }
  const found = (artifact ?? declared)!;
  return { sha256: found.sha256, size_bytes: Number(found.size_bytes) };
}
