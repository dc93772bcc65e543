import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import {
  checkHealth,
  configReader,
  createApiKey,
  ensureLocalPki,
  withBearerToken,
  freePort,
  meshClientOptions,
  SERVICE_NAMES,
  SERVICE_PORTS,
  tlsConfig,
  type ClientOptions,
  type ServiceName,
} from '@maas/shared';
import { CLI_IDENTITY, localApiKeyFile, localPkiDir } from './cli-credentials.js';

export { freePort };

/** The four services and the rollout controller, in start order: the registry first, since the others read it at start. */
export const MESH_SERVICES = SERVICE_NAMES;
export type MeshService = ServiceName;

/** The ports of the plan (DESIGN.md): gRPC 50051–50054, metrics 9464–9467. */
export const STANDARD_PORTS: Readonly<Record<MeshService, Readonly<{ grpc: number; metrics: number }>>> = SERVICE_PORTS;

/** How one service's process is started: the launcher turns the mesh's wiring into this. */
export interface ServiceCommand {
  file: string;
  args: string[];
  /** The process's whole environment. */
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/**
 * Builds a service's command from the mesh's wiring: the environment that connects it to the others
 * (GRPC_HOST, GRPC_PORT, METRICS_PORT, the peers' addresses, REGISTRY_DATA_DIR, MODEL_CACHE_DIR,
 * SHUTDOWN_GRACE_MS, OTEL_SERVICE_NAME, the TLS_* files, API_KEYS_FILE and GATEWAY_TOKEN_FILE (or AUTH_MODE=off), then
 * LocalMeshOptions.env).
 */
export type ServiceLauncher = (service: MeshService, wiring: Record<string, string>) => ServiceCommand;

/** The default launcher: this Node runs the repository's compiled services, with this process's environment. */
export function repositoryLauncher(rootDir: string): ServiceLauncher {
  const preload = path.join(rootDir, 'services', 'shared', 'dist', 'telemetry-preload.js');
  return (service, wiring) => ({
    file: process.execPath,
    // A larger young generation: each service allocates per call (HTTP/2 streams, tensors), and with V8's
    // default 16 MB semi-spaces scavenges took up to half of the tokenizer's and inference's CPU under load.
    args: ['--max-semi-space-size=64', '--require', preload, path.join(rootDir, 'services', service, 'dist', 'main.js')],
    env: { ...process.env, ...wiring },
    cwd: rootDir,
  });
}

export interface LocalMeshOptions {
  /** Repository root (holds services/<name>/dist/main.js). */
  rootDir: string;
  /** Starts the services some other way than from rootDir, e.g. from a container image's root file system. */
  launcher?: ServiceLauncher;
  /** Registry data and the inference model cache live below it. */
  dataDir: string;
  /** Ports per service; `'free'` picks unused ones (tests). */
  ports?: Record<MeshService, { grpc: number; metrics: number }> | 'free';
  /** Extra environment for every service (NATS_URL, OTEL_*, LOG_LEVEL, ...). */
  env?: Record<string, string>;
  /** Each line a service prints. */
  onLine?: (service: MeshService, line: string) => void;
  /** How long one service may take to report SERVING. */
  startTimeoutMs?: number;
  /** Aborting it during the start stops the services started so far and rejects (a signal to the launcher). */
  signal?: AbortSignal;
  /**
   * Processes per service (default 1). Tokenizer and inference may run several: the first on the service's
   * port, the others on free ports, and the gateway balances its calls over all of them (an `ipv4:` address
   * list). The registry owns its data folder, so it runs once; so does the gateway (the callers' one address).
   */
  replicas?: Partial<Record<'tokenizer' | 'inference', number>>;
}

/** One process of a service. */
export interface LocalReplica {
  readonly address: string;
  readonly metricsPort: number;
  /** The process now (a new one after restart). */
  readonly process: ChildProcess;
  /** Starts it again on the same ports (after it was killed) and resolves once it is SERVING. */
  restart(): Promise<void>;
}

export interface LocalMesh {
  readonly addresses: Record<MeshService, string>;
  readonly metricsPorts: Record<MeshService, number>;
  readonly processes: Record<MeshService, ChildProcess>;
  /** Every process of each service (the first is the one in `processes`). */
  readonly replicas: Record<MeshService, LocalReplica[]>;
  /** Client options with the local admin certificate (what maasctl finds by itself); plaintext when env said TLS_MODE=plaintext. */
  readonly clientOptions: ClientOptions;
  /** SIGTERM in reverse start order (gateway first), each given time to drain; SIGKILL after that. */
  stop(): Promise<void>;
}

async function waitForServing(
  service: MeshService,
  address: string,
  child: ChildProcess,
  timeoutMs: number,
  clientOptions: ClientOptions,
  signal?: AbortSignal,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${service} exited (code ${child.exitCode ?? child.signalCode}) before it was SERVING`);
    const status = await checkHealth(address, clientOptions).catch(() => 'UNREACHABLE');
    if (status === 'SERVING') return;
    if (Date.now() > end) throw new Error(`${service} at ${address} was not SERVING after ${timeoutMs} ms (last: ${status})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function stopProcess(child: ChildProcess, killAfterMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Runs the whole mesh on this machine as five separate processes (the four services and the rollout
 * controller), each with the telemetry preload, as a deployment would, and resolves once every one reports
 * SERVING on grpc.health.v1.
 */
export async function startLocalMesh(options: LocalMeshOptions): Promise<LocalMesh> {
  const ports = { ...STANDARD_PORTS };
  if (options.ports === 'free') {
    for (const service of MESH_SERVICES) ports[service] = { grpc: await freePort(), metrics: await freePort() };
  } else if (options.ports) Object.assign(ports, options.ports);
  const addresses = Object.fromEntries(MESH_SERVICES.map((service) => [service, `127.0.0.1:${ports[service].grpc}`])) as Record<MeshService, string>;
  // Ports of every replica: the first has the service's, the others free ones.
  const replicaPorts = Object.fromEntries(MESH_SERVICES.map((service) => [service, [ports[service]]])) as Record<
    MeshService,
    Array<{ grpc: number; metrics: number }>
  >;
  for (const [service, count] of Object.entries(options.replicas ?? {}) as Array<['tokenizer' | 'inference', number]>) {
    for (let index = 1; index < count; index += 1) replicaPorts[service].push({ grpc: await freePort(), metrics: await freePort() });
  }
  /** What the gateway dials: one address, or every replica's as a list its picker balances over. */
  const dialed = (service: MeshService) =>
    replicaPorts[service].length === 1 ? addresses[service] : `ipv4:${replicaPorts[service].map((port) => `127.0.0.1:${port.grpc}`).join(',')}`;
  const launcher = options.launcher ?? repositoryLauncher(options.rootDir);
  const processes = {} as Record<MeshService, ChildProcess>;
  // Secure by default: a local CA and a certificate per service and for the admin (maasctl), made on the first
  // start and kept in the data folder. TLS_MODE=plaintext in `env` turns it off.
  const plaintext = options.env?.TLS_MODE === 'plaintext';
  const pki = plaintext ? undefined : await ensureLocalPki({ dir: localPkiDir(options.dataDir), identities: [...MESH_SERVICES, CLI_IDENTITY] });
  const tlsEnv = (identity: string): Record<string, string> => {
    const files = pki?.files[identity];
    return files ? { TLS_MODE: 'mtls', TLS_CERT_FILE: files.certFile, TLS_KEY_FILE: files.keyFile, TLS_CA_FILE: files.caFile } : {};
  };
  // The gateway's keys file and a local admin key with every scope, made once; maasctl reads the token file.
  const apiKeysFile = path.join(localPkiDir(options.dataDir), 'api-keys.json');
  const tokenFile = localApiKeyFile(localPkiDir(options.dataDir));
  if (!plaintext && !existsSync(tokenFile)) {
    const { token } = createApiKey(apiKeysFile, { owner: 'local-admin', scopes: ['*'] });
    mkdirSync(path.dirname(tokenFile), { recursive: true, mode: 0o700 });
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  }
  // The rollout controller's own key for its quality gates through the gateway: classify only, made once.
  const controllerTokenFile = path.join(localPkiDir(options.dataDir), 'rollout-controller', 'api-key');
  if (!plaintext && !existsSync(controllerTokenFile)) {
    const { token } = createApiKey(apiKeysFile, { owner: 'rollout-controller', scopes: ['classify:*'] });
    mkdirSync(path.dirname(controllerTokenFile), { recursive: true, mode: 0o700 });
    writeFileSync(controllerTokenFile, `${token}\n`, { mode: 0o600 });
  }
  const clientOptions: ClientOptions = plaintext
    ? {}
    : withBearerToken(meshClientOptions(tlsConfig(configReader(tlsEnv(CLI_IDENTITY)))), readFileSync(tokenFile, 'utf8').trim());

  const launch = (service: MeshService, replica = 0) => {
    const own = replicaPorts[service][replica]!;
    const command = launcher(service, {
      OTEL_SERVICE_NAME: `maas-${service}`,
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: String(own.grpc),
      METRICS_PORT: String(own.metrics),
      REGISTRY_ADDRESS: addresses['model-registry'],
      TOKENIZER_ADDRESS: dialed('tokenizer'),
      INFERENCE_ADDRESS: dialed('inference'),
      // The rollout controller: the gateway for quality gates, its ModelRollout folder (maasctl apply -f writes
      // there), and the /metrics it analyses (every inference replica's).
      GATEWAY_ADDRESS: addresses.gateway,
      ROLLOUTS_DIR: path.join(options.dataDir, 'rollouts'),
      METRICS_TARGETS: [ports.gateway.metrics, ...replicaPorts.inference.map((port) => port.metrics)]
        .map((port) => `http://127.0.0.1:${port}/metrics`)
        .join(','),
      REGISTRY_DATA_DIR: path.join(options.dataDir, 'registry'),
      // The inference default (.maas/inference-cache) below the mesh's data folder.
      MODEL_CACHE_DIR: path.join(options.dataDir, 'inference-cache'),
      // No load balancer watches health here, so there is nothing to wait for between NOT_SERVING and stop.
      SHUTDOWN_GRACE_MS: '0',
      ...tlsEnv(service),
      ...(plaintext ? { AUTH_MODE: 'off' } : { API_KEYS_FILE: apiKeysFile, GATEWAY_TOKEN_FILE: controllerTokenFile }),
      ...options.env,
    });
    const child = spawn(command.file, command.args, {
      cwd: command.cwd,
      env: command.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group: a terminal's Ctrl-C reaches only the launcher, which then stops the services in
      // order. (Sharing the group, each service would get SIGINT and then the launcher's SIGTERM, which the
      // services read as "second signal: exit now".)
      detached: true,
    });
    for (const stream of [child.stdout!, child.stderr!]) {
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const lines = (pending + chunk).split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) if (line) options.onLine?.(service, line);
      });
    }
    if (replica === 0) processes[service] = child;
    replicaProcesses[service][replica] = child;
    // Detached children outlive a launcher that dies without stopping them: take them along.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.removeListener('exit', killOnExit));
    return child;
  };

  const replicaProcesses = Object.fromEntries(MESH_SERVICES.map((service) => [service, [] as ChildProcess[]])) as Record<MeshService, ChildProcess[]>;
  const stop = async () => {
    for (const service of [...MESH_SERVICES].reverse()) await Promise.all(replicaProcesses[service].map((child) => stopProcess(child, 20_000)));
  };
  const timeout = options.startTimeoutMs ?? 60_000;
  const startReplica = (service: MeshService, replica: number) =>
    waitForServing(service, `127.0.0.1:${replicaPorts[service][replica]!.grpc}`, launch(service, replica), timeout, clientOptions, options.signal);

  try {
    const [first, ...rest] = MESH_SERVICES;
    options.signal?.throwIfAborted();
    await startReplica(first, 0);
    await Promise.all(rest.map((service) => Promise.all(replicaPorts[service].map((_, replica) => startReplica(service, replica)))));
  } catch (error) {
    await stop();
    throw error;
  }
  const metricsPorts = Object.fromEntries(MESH_SERVICES.map((service) => [service, ports[service].metrics])) as Record<MeshService, number>;
  const replicas = Object.fromEntries(
    MESH_SERVICES.map((service) => [
      service,
      replicaPorts[service].map((port, replica) => ({
        address: `127.0.0.1:${port.grpc}`,
        metricsPort: port.metrics,
        get process() {
          return replicaProcesses[service][replica]!;
        },
        restart: () => startReplica(service, replica),
      })),
    ]),
  ) as Record<MeshService, LocalReplica[]>;
  return { addresses, metricsPorts, processes, replicas, clientOptions, stop };
}
