/**
 * What the registry knows about damaged artifact blobs, and the storage check (fsck) that finds them.
 *
 * A blob is damaged when its bytes no longer hash to its name (or it is gone, or the wrong size). Serving one
 * is refused (DATA_LOSS); the damage is remembered here, counted in maas_registry_damaged_blobs, and logged; an
 * identical registration of a version that uses it is then accepted as a repair (its bytes replace the blob).
 */
import type { DamagedArtifact, ModelVersion__Output } from '@maas/protos';
import type { Logger } from '@maas/shared';
import type { BlobStore } from './blob-store.js';
import type { RegistryStore } from './registry-store.js';

/** Damaged blobs by sha256, with what is wrong; in memory (a restart forgets them until they are found again). */
export class DamagedBlobs {
  private readonly known = new Map<string, string>();

  /** Records the damage; true when it was not known yet (then it is announced). */
  mark(sha256: string, problem: string): boolean {
    const known = this.known.has(sha256);
    this.known.set(sha256, problem);
    return !known;
  }

  clear(sha256: string): void {
    this.known.delete(sha256);
  }

  has(sha256: string): boolean {
    return this.known.has(sha256);
  }

  get size(): number {
    return this.known.size;
  }
}

/**
 * Whether `manifestFiles` (a registration's manifest) are exactly the files of `existing` — the same paths and
 * digests, maas.json aside — and one of them is known damaged: then that registration repairs the version.
 */
export function isRepairOf(existing: ModelVersion__Output, manifestFiles: ReadonlyArray<{ path: string; sha256: string }>, damaged: DamagedBlobs): boolean {
  const stored = existing.artifacts.filter((artifact) => artifact.path !== 'maas.json');
  if (stored.length !== manifestFiles.length) return false;
  const byPath = new Map(stored.map((artifact) => [artifact.path, artifact.sha256]));
  if (!manifestFiles.every((file) => byPath.get(file.path) === file.sha256)) return false;
  return existing.artifacts.some((artifact) => damaged.has(artifact.sha256));
}

export interface CheckStorageOptions {
  store: RegistryStore;
  blobs: BlobStore;
  damaged: DamagedBlobs;
  logger: Logger;
  /** Remove damaged blobs (not missing ones: nothing to remove). */
  repair: boolean;
  /** Told about each version file whose damage was not known before (the registry publishes an event). */
  onNewDamage?: (damage: { model: string; version: string; path: string; sha256: string; problem: string }) => void;
}

/** Hashes every blob a version references; lists (and with repair removes) the damaged ones, naming the versions that use each. */
export async function checkStorage(options: CheckStorageOptions): Promise<{ blobs_checked: number; bytes_checked: number; damaged: DamagedArtifact[] }> {
  const uses = new Map<string, { sizeBytes: number; usedBy: Array<{ model: string; version: string; path: string }> }>();
  for (const model of options.store.listModels().models) {
    for (const version of model.versions) {
      for (const artifact of version.artifacts) {
        const entry = uses.get(artifact.sha256) ?? { sizeBytes: Number(artifact.size_bytes), usedBy: [] };
        entry.usedBy.push({ model: version.model, version: version.version, path: artifact.path });
        uses.set(artifact.sha256, entry);
      }
    }
  }
  const damaged: DamagedArtifact[] = [];
  let bytesChecked = 0;
  for (const [sha256, { sizeBytes, usedBy }] of uses) {
    const condition = await options.blobs.verify(sha256, sizeBytes);
    if (condition.ok) {
      bytesChecked += condition.sizeBytes;
      options.damaged.clear(sha256);
      continue;
    }
    if (options.damaged.mark(sha256, condition.detail)) for (const use of usedBy) options.onNewDamage?.({ ...use, sha256, problem: condition.detail });
    const removed = options.repair && condition.problem !== 'missing';
    if (removed) await options.blobs.remove(sha256);
    options.logger.error({ sha256, problem: condition.detail, usedBy, removed }, 'damaged artifact blob');
    damaged.push({ sha256, problem: condition.problem, removed, used_by: usedBy });
  }
  return { blobs_checked: uses.size, bytes_checked: bytesChecked, damaged };
}
