/** maasctl's registry commands as functions: register a package, list models, change rollouts. */
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import {
  contracts,
  Status,
  type Alias__Output,
  type CheckStorageResponse__Output,
  type GetModelRequest,
  type ListAuditEventsResponse__Output,
  type ListModelsResponse__Output,
  type Model__Output,
  type ModelManifest,
  type ModelRegistryClient,
  type ModelVersion__Output,
  type RegisterVersionRequest,
  type Rollout__Output,
} from '@maas/protos';
import { createClient, unaryCall, type ClientOptions } from '@maas/shared';
import { CliError, unreachableAs } from './cli-errors.js';

/** The registry's default address (its standard port on this machine). */
export const DEFAULT_REGISTRY_ADDRESS = '127.0.0.1:50054';
/** How long a command may take unless told otherwise. */
export const DEFAULT_TIMEOUT_MS = 60_000;
/** Upload chunk size: the registry's own download chunk size, far below any gRPC message limit. */
export const DEFAULT_UPLOAD_CHUNK_BYTES = 256 * 1024;

export interface RegistryCallOptions {
  /** host:port of the model registry. */
  registryAddress: string;
  /** Deadline of the whole command, in milliseconds. */
  timeoutMs?: number;
  /** TLS credentials (cliClientOptions); default: plaintext. */
  client?: ClientOptions;
}

async function withRegistry<T>(options: RegistryCallOptions, use: (client: ModelRegistryClient, deadline: Date) => Promise<T>): Promise<T> {
  const client = createClient(contracts().maas.v1.ModelRegistry, options.registryAddress, options.client);
  try {
    return await use(client, new Date(Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS)));
  } catch (error) {
    throw unreachableAs(error, { client, what: 'registry', address: options.registryAddress });
  } finally {
    client.close();
  }
}

/** The registry's audit log (ListAuditEvents), newest first. */
export function listAuditEvents(options: RegistryCallOptions & { model?: string; limit?: number }): Promise<ListAuditEventsResponse__Output> {
  return withRegistry(options, (client, deadline) =>
    unaryCall((r, md, o, cb) => client.ListAuditEvents(r, md, o, cb), { model: options.model ?? '', limit: options.limit ?? 0 }, { deadline }),
  );
}

/**
 * Registers the package in `packageDir`: reads its maas.json, then streams the manifest and every file it lists
 * in chunks (with backpressure, so a large model never sits in memory). Resolves to the registered version.
 */
export async function registerPackage(options: RegistryCallOptions & { packageDir: string; chunkBytes?: number }): Promise<ModelVersion__Output> {
  const manifestPath = path.join(options.packageDir, 'maas.json');
  const text = await fs.readFile(manifestPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`cannot read ${manifestPath}: ${error.code ?? error.message}`);
  });
  let manifest: ModelManifest;
  try {
    manifest = JSON.parse(text) as ModelManifest;
  } catch (error) {
    throw new CliError(`${manifestPath} is not valid JSON: ${(error as Error).message}`);
  }
  if (!manifest || typeof manifest !== 'object' || !Array.isArray(manifest.files)) throw new CliError(`${manifestPath} has no "files" list`);
  const root = path.resolve(options.packageDir);
  const files = manifest.files.map((file) => {
    const filePath = path.resolve(root, String(file.path));
    // The registry refuses such paths too; checking here keeps maasctl from reading outside the package.
    if (!filePath.startsWith(root + path.sep)) throw new CliError(`${manifestPath}: file ${JSON.stringify(file.path)} is outside the package`);
    return { packagePath: String(file.path), filePath };
  });

  return withRegistry(options, (client, deadline) => {
    let stream: grpc.ClientWritableStream<RegisterVersionRequest> | undefined;
    const response = new Promise<ModelVersion__Output>((resolve, reject) => {
      stream = client.RegisterVersion({ deadline }, (error, version) => (error ? reject(error) : resolve(version!)));
    });
    const call = stream!;
    // The registry may answer early (a bad manifest, a duplicate version): stop sending then.
    let finished = false;
    void response.then(
      () => (finished = true),
      () => (finished = true),
    );
    const send = async (message: RegisterVersionRequest) => {
      if (!call.write(message)) await Promise.race([once(call, 'drain'), response.then(() => undefined)]);
    };
    const sendAll = async () => {
      await send({ manifest });
      for (const file of files) {
        let sent = false;
        const input = createReadStream(file.filePath, { highWaterMark: options.chunkBytes ?? DEFAULT_UPLOAD_CHUNK_BYTES });
        try {
          for await (const data of input as AsyncIterable<Buffer>) {
            if (finished) return;
            await send({ chunk: { path: file.packagePath, data } });
            sent = true;
          }
        } catch (error) {
          // File system errors carry a string code (ENOENT); gRPC errors from the registry pass through as they are.
          const code = (error as NodeJS.ErrnoException).code;
          if (typeof code === 'string') throw new CliError(`cannot read ${file.filePath}: ${code}`);
          throw error;
        } finally {
          input.destroy();
        }
        // An empty file still announces itself with one empty chunk.
        if (!sent && !finished) await send({ chunk: { path: file.packagePath, data: Buffer.alloc(0) } });
      }
      call.end();
    };
    return sendAll().then(
      () => response,
      (error: unknown) => {
        call.cancel();
        void response.catch(() => undefined);
        throw error;
      },
    );
  });
}

/** The registry's snapshot: every model with versions and rollout, and its revision. */
export function listModels(options: RegistryCallOptions): Promise<ListModelsResponse__Output> {
  return withRegistry(options, (client, deadline) => unaryCall((r, md, o, cb) => client.ListModels(r, md, o, cb), {}, { deadline }));
}

export interface SetRolloutOptions extends RegistryCallOptions {
  model: string;
  stableVersion: string;
  /** Empty or absent: no canary. */
  canaryVersion?: string;
  /** Percent of traffic for the canary (0–100). */
  canaryWeight?: number;
  /** Percent of stable's traffic also sent to the canary as shadow traffic (0–100; needs a canary). */
  mirrorPercent?: number;
  /** When set, the registry refuses (ABORTED) unless the rollout is still at this revision. */
  expectedRevision?: number;
}

export function setRollout(options: SetRolloutOptions): Promise<Rollout__Output> {
  return withRegistry(options, (client, deadline) => setRolloutWith(client, deadline, options));
}

function setRolloutWith(client: ModelRegistryClient, deadline: Date, options: SetRolloutOptions): Promise<Rollout__Output> {
  const request = {
    model: options.model,
    stable_version: options.stableVersion,
    canary_version: options.canaryVersion ?? '',
    canary_weight: options.canaryWeight ?? 0,
    mirror_percent: options.mirrorPercent ?? 0,
    expected_revision: options.expectedRevision ?? 0,
  };
  return unaryCall((r, md, o, cb) => client.SetRollout(r, md, o, cb), request, { deadline });
}

/**
 * Reads the rollout and changes it in one SetRollout guarded by its revision, so a concurrent change is refused
 * (ABORTED) rather than overwritten.
 */
function changeCanary(options: RegistryCallOptions & { model: string }, action: 'promote' | 'rollback'): Promise<Rollout__Output> {
  return withRegistry(options, async (client, deadline) => {
    const model = await unaryCall<GetModelRequest, Model__Output>((r, md, o, cb) => client.GetModel(r, md, o, cb), { name: options.model }, { deadline });
    const current = model.rollout;
    if (!current?.canary_version)
      throw new CliError(`model "${options.model}" has no canary to ${action === 'promote' ? 'promote' : 'roll back'}`, { code: Status.FAILED_PRECONDITION });
    return setRolloutWith(client, deadline, {
      ...options,
      stableVersion: action === 'promote' ? current.canary_version : current.stable_version,
      expectedRevision: current.revision,
    });
  });
}

/** Makes the canary the stable version and removes the canary. */
export function promoteCanary(options: RegistryCallOptions & { model: string }): Promise<Rollout__Output> {
  return changeCanary(options, 'promote');
}

/** Removes the canary, keeping the stable version. */
export function rollbackCanary(options: RegistryCallOptions & { model: string }): Promise<Rollout__Output> {
  return changeCanary(options, 'rollback');
}

export interface SetAliasOptions extends RegistryCallOptions {
  model: string;
  alias: string;
  /** Empty: remove the alias. */
  version: string;
  /** When set, the registry refuses (ABORTED) unless the alias is still at this revision. */
  expectedRevision?: number;
}

/** Points an alias at a version (or removes it, empty version). */
export function setAlias(options: SetAliasOptions): Promise<Alias__Output> {
  const request = { model: options.model, alias: options.alias, version: options.version, expected_revision: options.expectedRevision ?? 0 };
  return withRegistry(options, (client, deadline) => unaryCall((r, md, o, cb) => client.SetAlias(r, md, o, cb), request, { deadline }));
}

/** Asks the registry to hash every stored artifact (and with `repair`, to remove the damaged ones). */
export function checkStorage(options: RegistryCallOptions & { repair: boolean }): Promise<CheckStorageResponse__Output> {
  return withRegistry(options, (client, deadline) => unaryCall((r, md, o, cb) => client.CheckStorage(r, md, o, cb), { repair: options.repair }, { deadline }));
}
