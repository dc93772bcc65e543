/**
 * The baseline target: the bare echo server (echo-server.ts) as its own process, started once per bench run
 * and kept up for all of it, with the Classify-sized requests it is sent. Besides its own row (the baseline
 * benchmark), it is measured again right before every window of a benchmark compared with it, so each ratio
 * is taken under the same machine conditions as the rate it divides (the cores are shared with other work
 * whose load comes and goes, and the same echo load has measured anywhere from 5k to 8k req/s here).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { contracts, type ClassifyRequest } from '@maas/protos';
import { cpuProfileEnv } from './bench-mesh.js';
import { benchTexts } from './bench-texts.js';
import { ECHO_PATH } from './echo-server.js';
import { runWindow } from './load-generator.js';
import { callOnce, createRawUnaryClient, prepareRequests, type PreparedRequests } from './raw-unary-client.js';

/** In flight against the echo server (and in the mesh benchmarks compared with it). */
export const BASELINE_CONCURRENCY = 64;

/** The single-text Classify requests the classify benchmark sends; the echo baseline sends the same bytes. */
export function singleTextClassifyRequests(rootDir: string): ClassifyRequest[] {
  return benchTexts(rootDir).map((text) => ({ model: 'sentiment', texts: [text] }));
}

export interface EchoBaseline {
  address: string;
  pid: number;
  requests: PreparedRequests<Buffer>;
  /** Set when started with the profiling preload. */
  profileDir?: string;
  stop(): Promise<void>;
}

/** Starts the echo server, checks it answers byte for byte, and warms it (and the connection) up for `warmupMs`. */
export async function startEchoBaseline(options: { rootDir: string; warmupMs: number; profileDir?: string }): Promise<EchoBaseline> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'echo-server.ts')], {
    cwd: options.rootDir,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...(options.profileDir ? cpuProfileEnv(options.profileDir) : {}) },
  });
  // A bench that dies (or is interrupted) takes its echo server along.
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
    throw new Error(`echo server exited (${code}) before listening`);
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
      throw new Error('echo server closed its output before listening');
    })(),
    exitedEarly,
  ]);
  child.stdout!.resume();

  const classify = prepareRequests(contracts().maas.v1.Gateway.service.Classify, singleTextClassifyRequests(options.rootDir));
  const requests: PreparedRequests<Buffer> = { path: ECHO_PATH, bodies: classify.bodies, decode: (bytes) => bytes };
  const address = `127.0.0.1:${port}`;
  const client = createRawUnaryClient(address);
  try {
    const answer = await callOnce(client, requests);
    if (!answer.equals(requests.bodies[0]!)) throw new Error('echo server answered different bytes');
    await runWindow({ client, requests, concurrency: BASELINE_CONCURRENCY, timeoutMs: 30_000 }, { durationMs: options.warmupMs, maxRequests: 500_000 });
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.close();
  }
  return { address, pid: child.pid!, requests, ...(options.profileDir ? { profileDir: options.profileDir } : {}), stop };
}
