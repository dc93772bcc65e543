/**
 * A bench server run as its own process (the echo server, the naive peer), as each service of the mesh runs:
 * started with tsx, it prints "listening <port>" once bound and exits on SIGTERM. A bench that dies (or is
 * interrupted) takes it along.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpuProfileEnv } from './bench-mesh.js';

export interface ChildServer {
  address: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startChildServer(options: { name: string; rootDir: string; script: string; args?: string[]; profileDir?: string }): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', options.script, ...(options.args ?? [])], {
    cwd: options.rootDir,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...(options.profileDir ? cpuProfileEnv(options.profileDir) : {}) },
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  };

  const exitedEarly = once(child, 'exit').then(([code]) => {
    throw new Error(`${options.name} exited (${code}) before listening`);
  });
  exitedEarly.catch(() => undefined);
  const port = await Promise.race([
    (async () => {
      let output = '';
      for await (const chunk of child.stdout!) {
        output += String(chunk);
        const match = /listening (\d+)/.exec(output);
        if (match) return Number(match[1]);
      }
      throw new Error(`${options.name} closed its output before listening`);
    })(),
    exitedEarly,
  ]);
  child.stdout!.resume();
  return { address: `127.0.0.1:${port}`, pid: child.pid!, stop };
}
