/**
 * The real model registry for tests: started in this process on port 0 over a temp data folder, with a client
 * and promise forms of its unary calls. It is imported as the package (`@maas/model-registry`, its build), as
 * any other service would use it.
 */
import fs from 'node:fs/promises';
import type * as grpc from '@grpc/grpc-js';
import {
  contracts,
  type ListModelsResponse__Output,
  type Model__Output,
  type ModelRegistryClient,
  type ModelVersion__Output,
  type Rollout__Output,
  type SetRolloutRequest,
  type Alias__Output,
  type SetAliasRequest,
} from '@maas/protos';
import { loadConfig, startRegistryService, type RunningRegistryService } from '@maas/model-registry';
import { createClient, createLogger, freePort, type Logger } from '@maas/shared';
import { makeTempDir } from './model-packages.js';
import { testPki } from './test-pki.js';

export interface TestRegistry {
  registry: RunningRegistryService;
  client: ModelRegistryClient;
  /** host:port of the registry's gRPC server. */
  address: string;
  dataDir: string;
  /** Stops the registry and closes the client; removes the data folder when it was made here. */
  stop(): Promise<void>;
}

export interface TestRegistryOptions {
  /** Data folder (default: a new temp folder, removed at stop). */
  dataDir?: string;
  /**
   * Default: a closed port, so that registration works with NATS unreachable, as it must. null: the registry's
   * own default (NATS_URL unset), for tests whose services follow that NATS too.
   */
  natsUrl?: string | null;
  /** More registry variables (they win over the defaults here). */
  env?: Record<string, string>;
  /** Default: a silent one. */
  logger?: Logger;
}

/** Starts a registry on 127.0.0.1, port 0 (metrics on a free port too), with no shutdown grace. */
export async function startTestRegistry(options: TestRegistryOptions = {}): Promise<TestRegistry> {
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await makeTempDir('maas-registry-'));
  const natsUrl = options.natsUrl === undefined ? `nats://127.0.0.1:${await freePort()}` : options.natsUrl;
  const pki = await testPki();
  const config = loadConfig({
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: '0',
    METRICS_PORT: '0',
    SHUTDOWN_GRACE_MS: '0',
    SHUTDOWN_DEADLINE_MS: '2000',
    REGISTRY_DATA_DIR: dataDir,
    ...pki.env('model-registry'),
    ...(natsUrl === null ? {} : { NATS_URL: natsUrl }),
    ...options.env,
  });
  const registry = await startRegistryService(config, { logger: options.logger ?? createLogger({ service: 'test-registry', level: 'silent' }) });
  const address = `127.0.0.1:${registry.port}`;
  // The admin: tests register versions and set rollouts.
  const client = createClient(contracts().maas.v1.ModelRegistry, address, pki.clientOptions('admin'));
  return {
    registry,
    client,
    address,
    dataDir,
    async stop() {
      client.close();
      await registry.stop();
      if (ownsDataDir) await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Promise forms of the registry's unary calls, each with a 10 s deadline. */
export function registryCalls(client: ModelRegistryClient) {
  const options = () => ({ deadline: Date.now() + 10_000 });
  const unary = <Response>(invoke: (callback: grpc.requestCallback<Response>) => unknown) =>
    new Promise<Response>((resolve, reject) => invoke((error, response) => (error ? reject(error) : resolve(response!))));
  return {
    listModels: () => unary<ListModelsResponse__Output>((callback) => client.ListModels({}, options(), callback)),
    getModel: (name: string) => unary<Model__Output>((callback) => client.GetModel({ name }, options(), callback)),
    getVersion: (model: string, version: string) => unary<ModelVersion__Output>((callback) => client.GetVersion({ model, version }, options(), callback)),
    setRollout: (request: SetRolloutRequest) => unary<Rollout__Output>((callback) => client.SetRollout(request, options(), callback)),
    setAlias: (request: SetAliasRequest) => unary<Alias__Output>((callback) => client.SetAlias(request, options(), callback)),
  };
}
