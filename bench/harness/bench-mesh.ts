/**
 * The mesh as the benchmarks run it: the four services as separate processes (`startLocalMesh`, as `npm start`
 * does), on free loopback ports, with one data directory for the whole bench run so the example packages are
 * registered and downloaded once and every later start finds them. Each variant starts its own mesh because
 * the knobs it turns are environment variables read at start.
 */
import path from 'node:path';
import { freePort, listModels, MESH_SERVICES, registerPackage, setRollout, startLocalMesh, type MeshService } from '@maas/cli';
import { contracts, type ModelReadyRequest, type ModelReadyResponse__Output } from '@maas/protos';
import { createClient, unaryCall, type ClientOptions } from '@maas/shared';
import { eventually } from '../../test/support/eventually.js';
import { examplePackage } from '../../test/support/example-models.js';

/** A registered example package and the rollout that makes the services load it. */
export interface ExampleModel {
  model: string;
  version: string;
}

/** Every package a benchmark uses; all are rolled out (stable), so each mesh start loads all of them. */
export const BENCH_MODELS: readonly ExampleModel[] = [
  { model: 'sentiment', version: '1' },
  { model: 'encoder-bench', version: '1' },
];

export interface BenchMeshOptions {
  rootDir: string;
  dataDir: string;
  /** The variant's knobs, for every service (each reads only its own). */
  env: Record<string, string>;
  /** Load the profiling preload into every service, writing into this folder (see cpu-profile-preload.cjs). */
  profileDir?: string;
}

export interface BenchMesh {
  /** The variant's environment as given (the knobs it turned). */
  env: Record<string, string>;
  addresses: Record<MeshService, string>;
  /** What a client of the mesh presents: TLS with the local admin certificate and its API key (security is on, as by default). */
  clientOptions: ClientOptions;
  pids: Record<MeshService, number>;
  metricsPorts: Record<MeshService, number>;
  /** Where its services write CPU profiles, when started with the profiling preload. */
  profileDir?: string;
  /** The last lines the services printed (shown when something fails). */
  recentLines(): string[];
  /** Exit code (or signal) of each service that has exited, null for those still running. */
  exitCodes(): Record<MeshService, number | string | null>;
  stop(): Promise<void>;
}

/** Environment that loads the profiling preload (cpu-profile-preload.cjs) into a Node process, writing into `dir`. */
export function cpuProfileEnv(dir: string): Record<string, string> {
  return { NODE_OPTIONS: `--require ${path.join(__dirname, 'cpu-profile-preload.cjs')}`, MAAS_BENCH_CPU_PROFILE_DIR: dir };
}

async function ensureRolledOut(registryAddress: string, client: ClientOptions): Promise<void> {
  const { models } = await listModels({ registryAddress, client });
  for (const { model, version } of BENCH_MODELS) {
    const known = models.find((entry) => entry.name === model);
    if (!known?.versions.some((entry) => entry.version === version))
      await registerPackage({ registryAddress, client, packageDir: examplePackage(model, version) });
    if (known?.rollout?.stable_version !== version) await setRollout({ registryAddress, client, model, stableVersion: version });
  }
}

async function waitForModelsReady(inferenceAddress: string, options: ClientOptions): Promise<void> {
  const client = createClient(contracts().inference.GRPCInferenceService, inferenceAddress, options);
  try {
    for (const { model, version } of BENCH_MODELS) {
      await eventually(
        `${model} ${version} ready at inference`,
        async () => {
          const response = await unaryCall<ModelReadyRequest, ModelReadyResponse__Output>(
            (r, md, o, cb) => client.ModelReady(r, md, o, cb),
            { name: model, version },
            { deadline: 2_000 },
          );
          if (!response.ready) throw new Error('not ready yet');
          return true;
        },
        { timeoutMs: 120_000, intervalMs: 200 },
      );
    }
  } finally {
    client.close();
  }
}

/** Starts the mesh with the variant's environment and resolves once every bench model is ready at inference. */
export async function startBenchMesh(options: BenchMeshOptions): Promise<BenchMesh> {
  const lines: string[] = [];
  const env: Record<string, string> = {
    LOG_LEVEL: 'warn',
    // Not the machine's NATS: a benchmark must not publish into (or react to) a stream that tests share.
    // A port nothing listens on: the services find no NATS there and run on registry resync alone.
    NATS_URL: `nats://127.0.0.1:${await freePort()}`,
    // Security stays on (mTLS on every hop, the gateway checks the load generator's token on every call), but the
    // per-caller rate limit would cap the one caller the generator is; the in-flight cap is above its concurrency.
    RATE_LIMIT_RPS: '0',
    ...(options.profileDir ? cpuProfileEnv(options.profileDir) : {}),
    ...options.env,
  };
  const mesh = await startLocalMesh({
    rootDir: options.rootDir,
    dataDir: options.dataDir,
    ports: 'free',
    env,
    onLine: (service, line) => {
      lines.push(`${service}: ${line}`);
      if (lines.length > 50) lines.shift();
    },
  }).catch((error: Error) => {
    // A service that refuses its configuration says why on its output: pass that on.
    throw new Error(`${error.message}\n${lines.join('\n')}`);
  });
  const pids = Object.fromEntries(MESH_SERVICES.map((service) => [service, mesh.processes[service].pid!])) as Record<MeshService, number>;
  try {
    await ensureRolledOut(mesh.addresses['model-registry'], mesh.clientOptions);
    await waitForModelsReady(mesh.addresses.inference, mesh.clientOptions);
  } catch (error) {
    await mesh.stop();
    throw new Error(`${(error as Error).message}\n${lines.join('\n')}`, { cause: error });
  }
  return {
    env: { ...options.env },
    ...(options.profileDir ? { profileDir: options.profileDir } : {}),
    addresses: mesh.addresses,
    clientOptions: mesh.clientOptions,
    pids,
    metricsPorts: mesh.metricsPorts,
    recentLines: () => [...lines],
    exitCodes: () =>
      Object.fromEntries(MESH_SERVICES.map((service) => [service, mesh.processes[service].exitCode ?? mesh.processes[service].signalCode])) as Record<
        MeshService,
        number | string | null
      >,
    stop: () => mesh.stop(),
  };
}
