/** The maas.v1.ModelRegistry gRPC handlers: argument checks, then the store, blobs and events. */
import { once } from 'node:events';
import fs from 'node:fs/promises';
import type * as grpc from '@grpc/grpc-js';
import { Status, type ArtifactChunk, type ModelRegistryHandlers, type ModelVersion__Output } from '@maas/protos';
import { cancelled, clientStream, deadlineExceeded, deadlineFromCall, deadlinePassed, GrpcError, notFound, serverStream, unary, type HandlerContext, type Logger } from '@maas/shared';
import type { BlobStore } from './blob-store.js';
import { receivePackage } from './package-receiver.js';
import type { RegistryEvents } from './registry-events.js';
import type { RegistryMetrics } from './registry-metrics.js';
import { versionExists, type RegistryStore } from './registry-store.js';
import type { VersionCommitter } from './version-committer.js';

export interface RegistryHandlerDeps {
  store: RegistryStore;
  blobs: BlobStore;
  committer: VersionCommitter;
  events: RegistryEvents;
  metrics: RegistryMetrics;
  limits: { maxFileBytes: number; maxPackageBytes: number };
  downloadChunkBytes: number;
  /** Logger and gRPC request metrics for the shared handler wrappers. */
  ctx: HandlerContext;
}

/** A registration without a deadline still cannot hold a staging area forever. */
const NO_DEADLINE_FALLBACK_MS = 24 * 3600 * 1000;

export function createRegistryHandlers(deps: RegistryHandlerDeps): Omit<ModelRegistryHandlers, 'ListAuditEvents'> {
  const { store, ctx } = deps;
  const rfc3339Now = () => new Date().toISOString();

  const requireVersion = (model: string, version: string): ModelVersion__Output => {
    const found = store.getVersion(model, version);
    if (found) return found;
    if (!store.hasModel(model)) throw notFound(`model ${JSON.stringify(model)} is not registered`);
    throw notFound(`model ${JSON.stringify(model)} has no version ${JSON.stringify(version)}`);
  };

  return {
    RegisterVersion: clientStream(
      'RegisterVersion',
      async (call) => {
        const staging = await deps.blobs.createStagingArea();
        try {
          const pkg = await receivePackage({
            messages: call,
            staging,
            limits: deps.limits,
            accept: (manifest) => {
              // Refuse before any file is sent rather than after the whole package was uploaded.
              if (store.hasVersion(manifest.name, manifest.version)) throw versionExists(manifest.name, manifest.version);
            },
            onBytes: (bytes) => deps.metrics.bytesReceived.inc(bytes),
          }).catch((error: unknown) => {
            // A cancelled call destroys the stream under the loop; report the cancellation, not its side effect.
            if (call.cancelled) throw cancelled('the client cancelled the upload');
            throw error;
          });
          // The client has given up by now: registering anyway would make its retry fail with ALREADY_EXISTS.
          if (call.cancelled) throw cancelled('the client cancelled the upload');
          if (deadlinePassed(deadlineFromCall(call, NO_DEADLINE_FALLBACK_MS))) throw deadlineExceeded('the deadline passed before the upload was committed');
          const version = await deps.committer.commit(pkg, { createdAt: rfc3339Now() });
          deps.metrics.registrations.inc();
          ctx.logger.info({ model: version.model, version: version.version, revision: version.revision, files: version.artifacts.length }, 'version registered');
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
        if (!model) throw notFound(`model ${JSON.stringify(request.name)} is not registered`);
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
        if (!artifact) throw notFound(`model ${JSON.stringify(request.model)} version ${JSON.stringify(request.version)} has no file ${JSON.stringify(request.path)}`);
        await checkBlob({ blobs: deps.blobs, logger: ctx.logger, sha256: artifact.sha256, sizeBytes: artifact.size_bytes });
        let first = true;
        const chunk = (data: Buffer): ArtifactChunk => (first ? { data, sha256: artifact.sha256, size_bytes: artifact.size_bytes } : { data });
        const stream = deps.blobs.openRead(artifact.sha256, deps.downloadChunkBytes);
        try {
          for await (const data of stream as AsyncIterable<Buffer>) {
            if (call.cancelled) return;
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
          expectedRevision: request.expected_revision,
          updatedAt: rfc3339Now(),
        });
        if (changed) {
          deps.metrics.rolloutChanges.inc();
          ctx.logger.info({ ...rollout }, 'rollout changed');
          await deps.events.rolloutChanged(rollout);
        }
        return rollout;
      },
      ctx,
    ),
  };
}

/** The blob must be there with the recorded size; anything else is storage damage, not a client error. */
async function checkBlob(options: { blobs: BlobStore; logger: Logger; sha256: string; sizeBytes: number }): Promise<void> {
  const { sha256, sizeBytes } = options;
  const stat = await fs.stat(options.blobs.blobPath(sha256)).catch(() => undefined);
  const problem = !stat ? 'is missing from the registry storage' : stat.size !== sizeBytes ? `has ${stat.size} bytes on disk, ${sizeBytes} recorded` : undefined;
  if (!problem) return;
  options.logger.error({ sha256, path: options.blobs.blobPath(sha256) }, `artifact blob ${problem}`);
  throw new GrpcError(Status.DATA_LOSS, `artifact blob ${sha256} ${problem}`);
}

/** Waits until the call can take more data, or the client went away (then 'drain' would never come). */
async function drainedOrCancelled(call: grpc.ServerWritableStream<unknown, unknown>): Promise<void> {
  const controller = new AbortController();
  try {
    await Promise.race([once(call, 'drain', { signal: controller.signal }), once(call, 'cancelled', { signal: controller.signal }), once(call, 'close', { signal: controller.signal })]);
  } finally {
    controller.abort();
  }
}
