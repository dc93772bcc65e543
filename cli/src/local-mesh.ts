import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { checkHealth, freePort, SERVICE_NAMES, SERVICE_PORTS, type ServiceName } from '@maas/shared';

export { freePort };

/** The four services and the rollout controller, in start order: the registry first, since the others read it at start. */
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
  /** SIGTERM in reverse start order (gateway first), each given time to drain; SIGKILL after that. */
  stop(): Promise<void>;
}

async function waitForServing(service: MeshService, address: string, child: ChildProcess, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${service} exited (code ${child.exitCode ?? child.signalCode}) before it was SERVING`);
    const status = await checkHealth(address).catch(() => 'UNREACHABLE');
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
  const preload = path.join(options.rootDir, 'services', 'shared', 'dist', 'telemetry-preload.js');
  const processes = {} as Record<MeshService, ChildProcess>;

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
        // The rollout controller: the gateway for quality gates, its ModelRollout folder (maasctl apply -f writes
        // there), and the /metrics it analyses.
        GATEWAY_ADDRESS: addresses.gateway,
        ROLLOUTS_DIR: path.join(options.dataDir, 'rollouts'),
        METRICS_TARGETS: `http://127.0.0.1:${ports.gateway.metrics}/metrics,http://127.0.0.1:${ports.inference.metrics}/metrics`,
        REGISTRY_DATA_DIR: path.join(options.dataDir, 'registry'),
        // The inference default (.maas/inference-cache) below the mesh's data folder.
        MODEL_CACHE_DIR: path.join(options.dataDir, 'inference-cache'),
        // No load balancer watches health here, so there is nothing to wait for between NOT_SERVING and stop.
        SHUTDOWN_GRACE_MS: '0',
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
    await waitForServing(first, addresses[first], launch(first), timeout, options.signal);
    await Promise.all(rest.map((service) => waitForServing(service, addresses[service], launch(service), timeout, options.signal)));
  } catch (error) {
    await stop();
    throw error;
  }
  const metricsPorts = Object.fromEntries(MESH_SERVICES.map((service) => [service, ports[service].metrics])) as Record<MeshService, number>;
  return { addresses, metricsPorts, processes, stop };
}
