import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { checkHealth, configReader, createApiKey, ensureLocalPki, withBearerToken, freePort, meshClientOptions, SERVICE_NAMES, SERVICE_PORTS, tlsConfig, type ClientOptions, type ServiceName } from '@maas/shared';
import { CLI_IDENTITY, localApiKeyFile, localPkiDir } from './cli-credentials.js';

export { freePort };

/** The four services, in start order: the registry first, since the others read it at start. */
export const MESH_SERVICES = SERVICE_NAMES;
export type MeshService = ServiceName;

/** The ports of the plan (DESIGN.md): gRPC 50051–50054, metrics 9464–9467. */
export const STANDARD_PORTS: Readonly<Record<MeshService, Readonly<{ grpc: number; metrics: number }>>> = SERVICE_PORTS;

export interface LocalMeshOptions {
  /** Repository root (holds services/<name>/dist/main.js). */
  rootDir: string;
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
}

export interface LocalMesh {
  readonly addresses: Record<MeshService, string>;
  readonly metricsPorts: Record<MeshService, number>;
  readonly processes: Record<MeshService, ChildProcess>;
  /** Client options with the local admin certificate (what maasctl finds by itself); plaintext when env said TLS_MODE=plaintext. */
  readonly clientOptions: ClientOptions;
  /** SIGTERM in reverse start order (gateway first), each given time to drain; SIGKILL after that. */
  stop(): Promise<void>;
}

async function waitForServing(service: MeshService, address: string, child: ChildProcess, timeoutMs: number, clientOptions: ClientOptions, signal?: AbortSignal): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${service} exited (code ${child.exitCode ?? child.signalCode}) before it was SERVING`);
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
 * Runs the whole mesh on this machine as four separate processes, each with the telemetry preload, as a
 * deployment would, and resolves once every service reports SERVING on grpc.health.v1.
 */
export async function startLocalMesh(options: LocalMeshOptions): Promise<LocalMesh> {
  const ports = { ...STANDARD_PORTS };
  if (options.ports === 'free') {
    for (const service of MESH_SERVICES) ports[service] = { grpc: await freePort(), metrics: await freePort() };
  } else if (options.ports) Object.assign(ports, options.ports);
  const addresses = Object.fromEntries(MESH_SERVICES.map((service) => [service, `127.0.0.1:${ports[service].grpc}`])) as Record<MeshService, string>;
  const preload = path.join(options.rootDir, 'services', 'shared', 'dist', 'telemetry-preload.js');
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
  const clientOptions: ClientOptions = plaintext ? {} : withBearerToken(meshClientOptions(tlsConfig(configReader(tlsEnv(CLI_IDENTITY)))), readFileSync(tokenFile, 'utf8').trim());

  const launch = (service: MeshService) => {
    const child = spawn(process.execPath, ['--require', preload, path.join(options.rootDir, 'services', service, 'dist', 'main.js')], {
      cwd: options.rootDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group: a terminal's Ctrl-C reaches only the launcher, which then stops the services in
      // order. (Sharing the group, each service would get SIGINT and then the launcher's SIGTERM, which the
      // services read as "second signal: exit now".)
      detached: true,
      env: {
        ...process.env,
        OTEL_SERVICE_NAME: `maas-${service}`,
        GRPC_HOST: '127.0.0.1',
        GRPC_PORT: String(ports[service].grpc),
        METRICS_PORT: String(ports[service].metrics),
        REGISTRY_ADDRESS: addresses['model-registry'],
        TOKENIZER_ADDRESS: addresses.tokenizer,
        INFERENCE_ADDRESS: addresses.inference,
        REGISTRY_DATA_DIR: path.join(options.dataDir, 'registry'),
        // The inference default (.maas/inference-cache) below the mesh's data folder.
        MODEL_CACHE_DIR: path.join(options.dataDir, 'inference-cache'),
        // No load balancer watches health here, so there is nothing to wait for between NOT_SERVING and stop.
        SHUTDOWN_GRACE_MS: '0',
        ...tlsEnv(service),
        ...(plaintext ? { AUTH_MODE: 'off' } : { API_KEYS_FILE: apiKeysFile }),
        ...options.env,
      },
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
    processes[service] = child;
    // Detached children outlive a launcher that dies without stopping them: take them along.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.removeListener('exit', killOnExit));
    return child;
  };

  const stop = async () => {
    for (const service of [...MESH_SERVICES].reverse()) if (processes[service]) await stopProcess(processes[service], 20_000);
  };

  try {
    const timeout = options.startTimeoutMs ?? 60_000;
    const [first, ...rest] = MESH_SERVICES;
    options.signal?.throwIfAborted();
    await waitForServing(first, addresses[first], launch(first), timeout, clientOptions, options.signal);
    await Promise.all(rest.map((service) => waitForServing(service, addresses[service], launch(service), timeout, clientOptions, options.signal)));
  } catch (error) {
    await stop();
    throw error;
  }
  const metricsPorts = Object.fromEntries(MESH_SERVICES.map((service) => [service, ports[service].metrics])) as Record<MeshService, number>;
  return { addresses, metricsPorts, processes, clientOptions, stop };
}
