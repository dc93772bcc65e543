/**
 * Turns a fully received package into a registered version: blobs into their content addresses, then one
 * database transaction. Commits run one at a time, so "which blobs did this commit create" is well defined and
 * a failed commit can remove exactly those, leaving no unreferenced blob behind.
 */
import type { ModelVersion__Output } from '@maas/protos';
import type { Logger } from '@maas/shared';
import type { BlobStore } from './blob-store.js';
import type { ReceivedPackage } from './package-receiver.js';
import type { RegistryStore } from './registry-store.js';

export interface VersionCommitter {
  /** Stores the package's blobs and records the version (ALREADY_EXISTS if it appeared meanwhile). */
  commit(pkg: ReceivedPackage, options: { createdAt: string }): Promise<ModelVersion__Output>;
  /** Stores the blobs of an identical upload of an existing version: each damaged or missing one is replaced. */
  repair(pkg: ReceivedPackage): Promise<void>;
}

export function createVersionCommitter(deps: { store: RegistryStore; blobs: BlobStore; logger: Logger }): VersionCommitter {
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(task: () => Promise<T>): Promise<T> => {
    const result = queue.then(task);
    queue = result.catch(() => undefined);
    return result;
  };

  return {
    commit: (pkg, { createdAt }) =>
      serialized(async () => {
        const created: string[] = [];
        try {
          for (const { staged } of pkg.files) {
            if (await deps.blobs.commit(staged)) created.push(staged.sha256);
          }
          return deps.store.insertVersion({
            manifest: pkg.manifest,
            manifestJson: pkg.manifestJson,
            artifacts: pkg.files.map(({ path, staged }) => ({ path, sha256: staged.sha256, size_bytes: staged.sizeBytes })),
            createdAt,
          });
        } catch (error) {
          // Nothing references the blobs this commit created (the transaction did not happen): remove them.
          for (const sha256 of created) {
            await deps.blobs
              .remove(sha256)
              .catch((removeError: unknown) => deps.logger.warn({ err: removeError, sha256 }, 'could not remove an unreferenced blob'));
          }
          throw error;
        }
      }),
    repair: (pkg) =>
      serialized(async () => {
        // commit() keeps a blob that verifies and replaces one that does not; nothing to undo either way.
        for (const { staged } of pkg.files) await deps.blobs.commit(staged);
      }),
  };
}

/**
 * Deletes blobs no version references: left by a registry that died between storing blobs and committing the
 * version. Run at start, before serving (no commit can be in progress then).
 */
export async function removeUnreferencedBlobs(deps: { store: RegistryStore; blobs: BlobStore; logger: Logger }): Promise<number> {
  const referenced = deps.store.referencedDigests();
  let removed = 0;
  for (const sha256 of await deps.blobs.list()) {
    if (referenced.has(sha256)) continue;
    await deps.blobs.remove(sha256);
    removed += 1;
  }
  if (removed > 0) deps.logger.info({ removed }, 'removed blobs no version references (left by an interrupted registration)');
  return removed;
}
