/** The maas.v1.ModelRegistry gRPC handlers: argument checks, then the store, blobs and events. */
import { once } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import { Status, type ArtifactChunk, type ModelRegistryHandlers, type ModelVersion__Output } from '@maas/protos';
import {
  cancelled,
  quote,
  clientStream,
  deadlineExceeded,
  deadlineFromCall,
  deadlinePassed,
  GrpcError,
  notFound,
  serverStream,
  unary,
  type HandlerContext,
} from '@maas/shared';
import { createHash } from 'node:crypto';
import type { BlobStore } from './blob-store.js';
import { receivePackage } from './package-receiver.js';
import type { RegistryEvents } from './registry-events.js';
import type { RegistryMetrics } from './registry-metrics.js';
import { versionExists, versionNamedLikeAlias, type RegistryStore } from './registry-store.js';
import { checkStorage, isRepairOf, type DamagedBlobs } from './storage-check.js';
import type { VersionCommitter } from './version-committer.js';

export interface RegistryHandlerDeps {
  store: RegistryStore;
  blobs: BlobStore;
  committer: VersionCommitter;
  events: RegistryEvents;
  metrics: RegistryMetrics;
  limits: { maxFileBytes: number; maxPackageBytes: number };
  downloadChunkBytes: number;
  /** Blobs found damaged (by a download or a storage check). */
  damaged: DamagedBlobs;
  /** Logger and gRPC request metrics for the shared handler wrappers. */
  ctx: HandlerContext;
}

/** A registration without a deadline is committed only if it completes within this long of its start. */
const NO_DEADLINE_FALLBACK_MS = 24 * 3600 * 1000;

export function createRegistryHandlers(deps: RegistryHandlerDeps): Omit<ModelRegistryHandlers, 'ListAuditEvents'> {
  const { store, ctx } = deps;
  const rfc3339Now = () => new Date().toISOString();
  /** Publishes a version file's damage (once per blob until it is repaired); a publish never fails the call. */
  const announceDamage = (damage: { model: string; version: string; path: string; sha256: string; problem: string }) =>
    void deps.events.artifactDamaged({ ...damage, revision: store.revision });

  /** A committed change: counted, logged, then published (publishing never fails the write, see RegistryEvents). */
  const announce = async (counter: { inc(): void }, fields: object, message: string, publish: () => Promise<void>) => {
    counter.inc();
    ctx.logger.info(fields, message);
    await publish();
  };

  const requireVersion = (model: string, version: string): ModelVersion__Output => {
    const found = store.getVersion(model, version);
    if (found) return found;
    if (!store.hasModel(model)) throw notFound(`model ${quote(model)} is not registered`);
    throw notFound(`model ${quote(model)} has no version ${quote(version)}`);
  };

  return {
    RegisterVersion: clientStream(
      'RegisterVersion',
      async (call) => {
        // From the call's start: a fallback computed after the upload would always lie a day ahead.
        const deadline = deadlineFromCall(call, NO_DEADLINE_FALLBACK_MS);
        const staging = await deps.blobs.createStagingArea();
        // Set when this upload is the identical package of a version with a damaged blob: it repairs that version.
        let repairs: ModelVersion__Output | undefined;
        try {
          const pkg = await receivePackage({
            messages: call,
            staging,
            limits: deps.limits,
            accept: (manifest) => {
              // Refuse before any file is sent rather than after the whole package was uploaded.
              if (store.hasAlias(manifest.name, manifest.version)) throw versionNamedLikeAlias(manifest.name, manifest.version);
              if (!store.hasVersion(manifest.name, manifest.version)) return;
              const existing = store.getVersion(manifest.name, manifest.version);
              if (existing && isRepairOf(existing, manifest.files, deps.damaged)) repairs = existing;
              else throw versionExists(manifest.name, manifest.version);
            },
            onBytes: (bytes) => deps.metrics.bytesReceived.inc(bytes),
          }).catch((error: unknown) => {
            // A cancelled call destroys the stream under the loop; report the cancellation, not its side effect.
            if (call.cancelled) throw cancelled('the client cancelled the upload');
            throw error;
          });
          // The client has given up by now: registering anyway would make its retry fail with ALREADY_EXISTS.
          if (call.cancelled) throw cancelled('the client cancelled the upload');
          if (deadlinePassed(deadline)) throw deadlineExceeded('the deadline passed before the upload was committed');
          if (repairs) {
            const stored = new Map(repairs.artifacts.map((artifact) => [artifact.path, artifact.sha256]));
            // maas.json included: a manifest that differs in any other field is another version, not a repair.
            if (!pkg.files.every(({ path, staged }) => stored.get(path) === staged.sha256)) throw versionExists(repairs.model, repairs.version);
            await deps.committer.repair(pkg);
            for (const { staged } of pkg.files) deps.damaged.clear(staged.sha256);
            ctx.logger.warn({ model: repairs.model, version: repairs.version }, 'damaged version repaired by an identical upload');
            return repairs;
          }
          const version = await deps.committer.commit(pkg, { createdAt: rfc3339Now() });
          deps.metrics.registrations.inc();
          ctx.logger.info(
            { model: version.model, version: version.version, revision: version.revision, files: version.artifacts.length },
            'version registered',
          );
          await deps.events.versionRegistered(version);
          return version;
        } finally {
          await staging.discard();
        }
      },
      ctx,
    ),

    ListModels: unary('ListModels', async () => store.listModels(), ctx),

    GetModel: unary(
      'GetModel',
      async (request) => {
        const model = store.getModel(request.name);
        if (!model) throw notFound(`model ${quote(request.name)} is not registered`);
        return model;
      },
      ctx,
    ),

    GetVersion: unary('GetVersion', async (request) => requireVersion(request.model, request.version), ctx),

    DownloadArtifact: serverStream(
      'DownloadArtifact',
      async (request, call) => {
        const version = requireVersion(request.model, request.version);
        const artifact = version.artifacts.find((candidate) => candidate.path === request.path);
        if (!artifact) throw notFound(`model ${quote(request.model)} version ${quote(request.version)} has no file ${quote(request.path)}`);
        const where = { model: request.model, version: request.version, path: request.path, sha256: artifact.sha256 };
        const damage = (detail: string) => {
          if (deps.damaged.mark(artifact.sha256, detail))
            announceDamage({ model: request.model, version: request.version, path: request.path, sha256: artifact.sha256, problem: detail });
          deps.metrics.damageFound.inc({ where: 'download' });
          ctx.logger.error({ ...where, blob: deps.blobs.blobPath(artifact.sha256), problem: detail }, 'damaged artifact blob refused');
          return new GrpcError(
            Status.DATA_LOSS,
            `file ${quote(request.path)} of model ${quote(request.model)} version ${quote(request.version)} is damaged in the registry's storage (blob ${artifact.sha256} ${detail}); register the same package again to repair it`,
          );
        };
        // Read back and hashed before a byte is sent: a damaged blob is never served.
        const condition = await deps.blobs.verify(artifact.sha256, Number(artifact.size_bytes));
        if (!condition.ok) throw damage(condition.detail);
        // And hashed again while sent, in case it changed in between: then the stream ends in DATA_LOSS, not OK.
        const sent = createHash('sha256');
        let first = true;
        const chunk = (data: Buffer): ArtifactChunk => (first ? { data, sha256: artifact.sha256, size_bytes: artifact.size_bytes } : { data });
        const stream = deps.blobs.openRead(artifact.sha256, deps.downloadChunkBytes);
        try {
          for await (const data of stream as AsyncIterable<Buffer>) {
            if (call.cancelled) return;
            sent.update(data);
            const writable = call.write(chunk(data));
            first = false;
            deps.metrics.bytesSent.inc(data.length);
            if (!writable) await drainedOrCancelled(call);
          }
        } finally {
          stream.destroy();
        }
        // An empty file still gets its one chunk carrying the digest and size.
        if (first && !call.cancelled) call.write(chunk(Buffer.alloc(0)));
        const sentDigest = sent.digest('hex');
        if (sentDigest !== artifact.sha256) throw damage(`changed while it was sent: its bytes hash to ${sentDigest}`);
      },
      ctx,
    ),

    CheckStorage: unary(
      'CheckStorage',
      async (request) => {
        const result = await checkStorage({
          store,
          blobs: deps.blobs,
          damaged: deps.damaged,
          logger: ctx.logger,
          repair: request.repair,
          onNewDamage: announceDamage,
        });
        if (result.damaged.length > 0) deps.metrics.damageFound.inc({ where: 'check' }, result.damaged.length);
        ctx.logger.info({ checked: result.blobs_checked, damaged: result.damaged.length, repair: request.repair }, 'storage checked');
        return result;
      },
      ctx,
    ),

    SetRollout: unary(
      'SetRollout',
      async (request) => {
        const { rollout, changed } = store.setRollout({
          model: request.model,
          stableVersion: request.stable_version,
          canaryVersion: request.canary_version,
          canaryWeight: request.canary_weight,
          mirrorPercent: request.mirror_percent,
          expectedRevision: request.expected_revision,
          updatedAt: rfc3339Now(),
        });
        if (changed) await announce(deps.metrics.rolloutChanges, { ...rollout }, 'rollout changed', () => deps.events.rolloutChanged(rollout));
        return rollout;
      },
      ctx,
    ),

    SetAlias: unary(
      'SetAlias',
      async (request) => {
        const { alias, previousVersion, changed } = store.setAlias({
          model: request.model,
          alias: request.alias,
          version: request.version,
          expectedRevision: request.expected_revision,
          updatedAt: rfc3339Now(),
        });
        if (changed) {
          const fields = { model: request.model, alias: alias.name, version: alias.version, previousVersion, revision: alias.revision };
          await announce(deps.metrics.aliasChanges, fields, alias.version ? 'alias set' : 'alias removed', () =>
            deps.events.aliasChanged({ model: request.model, alias, previousVersion }),
          );
        }
        return alias;
      },
      ctx,
    ),
  };
}

/** Waits until the call can take more data, or the client went away (then 'drain' would never come). */
async function drainedOrCancelled(call: grpc.ServerWritableStream<unknown, unknown>): Promise<void> {
  const controller = new AbortController();
  try {
    await Promise.race([
      once(call, 'drain', { signal: controller.signal }),
      once(call, 'cancelled', { signal: controller.signal }),
      once(call, 'close', { signal: controller.signal }),
    ]);
  } finally {
    controller.abort();
  }
}
