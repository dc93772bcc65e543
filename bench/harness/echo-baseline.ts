/**
 * The baseline target: the bare echo server (echo-server.ts) as its own process, started once per bench run
 * and kept up for all of it, with the Classify-sized requests it is sent. Besides its own row (the baseline
 * benchmark), it is measured again right before every window of a benchmark compared with it, so each ratio
 * is taken under the same machine conditions as the rate it divides (the cores are shared with other work
 * whose load comes and goes, and the same echo load has measured anywhere from 5k to 8k req/s here).
 */
import path from 'node:path';
import { contracts, type ClassifyRequest } from '@maas/protos';
import { benchTexts } from './bench-texts.js';
import { startChildServer } from './child-server.js';
import { ECHO_PATH } from './echo-server.js';
import { runWindow } from './load-generator.js';
import { serverBaseline, type PairedBaseline } from './paired-baseline.js';
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
  const server = await startChildServer({
    name: 'echo server',
    rootDir: options.rootDir,
    script: path.join(__dirname, 'echo-server.ts'),
    ...(options.profileDir ? { profileDir: options.profileDir } : {}),
  });
  const { address, stop } = server;
  const classify = prepareRequests(contracts().maas.v1.Gateway.service.Classify, singleTextClassifyRequests(options.rootDir));
  const requests: PreparedRequests<Buffer> = { path: ECHO_PATH, bodies: classify.bodies, decode: (bytes) => bytes };
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
  return { address, pid: server.pid, requests, ...(options.profileDir ? { profileDir: options.profileDir } : {}), stop };
}

/** The echo server as the baseline paired with a mesh window of single-text calls at BASELINE_CONCURRENCY. */
export function echoPair(echo: EchoBaseline, timeoutMs: number): PairedBaseline {
  return serverBaseline({ name: 'echo', address: echo.address, requests: echo.requests, concurrency: BASELINE_CONCURRENCY, itemsPerRequest: 1, timeoutMs });
}
