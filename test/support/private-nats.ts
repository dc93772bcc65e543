/**
 * A nats-server of a test's own, on free loopback ports, for tests that stop or break NATS: the machine's
 * shared NATS (4222) is never touched.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@maas/shared';
import { eventually } from './eventually.js';

/** The nats-server binary (Debian installs it in /usr/sbin, which is not on every PATH), if there is one. */
export const natsServerBinary: string | undefined = ['/usr/sbin', ...(process.env.PATH ?? '').split(path.delimiter)]
  .map((dir) => path.join(dir, 'nats-server'))
  .find((file) => fs.existsSync(file));

export interface PrivateNats {
  url: string;
  monitorUrl: string;
  /** Stops the server: `SIGKILL` for a crash, the default for a clean stop. Resolves once it exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts a nats-server (JetStream on unless `jetStream: false`, store in a temp folder removed at stop); resolves once /healthz answers.
 * `configFile` is read first (its address, ports and store are overridden by ours), with `env` added to the server's environment.
 */
export async function startPrivateNats(
  options: { jetStream?: boolean; port?: number; configFile?: string; env?: Record<string, string> } = {},
): Promise<PrivateNats> {
  if (!natsServerBinary) throw new Error('no nats-server binary (apt-get install nats-server)');
  const [port, monitorPort] = [options.port ?? (await freePort()), await freePort()];
  const store = fs.mkdtempSync(path.join(os.tmpdir(), 'maas-nats-'));
  const args = [...(options.configFile ? ['-c', options.configFile] : []), '-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort)];
  if (options.jetStream !== false) args.push('-js', '-sd', store);
  const server = spawn(natsServerBinary, args, { stdio: 'ignore', env: { ...process.env, ...options.env } });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const monitorUrl = `http://127.0.0.1:${monitorPort}`;
  const up = await eventually('nats-server answers /healthz', () => fetch(`${monitorUrl}/healthz`).then((response) => response.ok), { timeoutMs: 5_000 }).catch(
    () => false,
  );
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (server.exitCode === null && server.signalCode === null) server.kill(signal);
    await exited;
    fs.rmSync(store, { recursive: true, force: true });
  };
  if (!up) {
    await stop();
    throw new Error('nats-server did not start');
  }
  return { url: `nats://127.0.0.1:${port}`, monitorUrl, stop };
}
