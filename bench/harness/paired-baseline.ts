/**
 * Baselines measured right before each window of the mesh, under the same machine conditions (the cores are
 * shared with other work whose load comes and goes): the bare echo server, the naive single-process peer, and
 * the in-process limits (raw ONNX Runtime, the tokenizer library inline). Each ratio in the table divides two
 * numbers taken seconds apart, never minutes.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { CLI_IDENTITY, localPkiDir } from '@maas/cli';
import { contracts, type ClassifyRequest, type ClassifyResponse__Output } from '@maas/protos';
import { configReader, ensureLocalPki, meshClientOptions, sha256Hex, tlsConfig, withBearerToken, type ClientOptions } from '@maas/shared';
import { examplePackage } from '../../test/support/example-models.js';
import { startChildServer, type ChildServer } from './child-server.js';
import { runWindow } from './load-generator.js';
import { callOnce, createRawUnaryClient, prepareRequests, type PreparedRequests } from './raw-unary-client.js';

/** One window of a baseline, in the items (texts, rows, requests) of the window it is paired with. */
export interface BaselineWindow {
  itemsPerSecond: number;
  /** Latencies, where the baseline answers calls (not the in-process limits). */
  p50Ms?: number;
  p99Ms?: number;
  /** Which configuration of the baseline this was (e.g. the best batch of the in-process limit). */
  note?: string;
}

export interface PairedBaseline {
  /** As the table shows it: echo, peer, in-process. */
  name: string;
  /** Measures one window of `durationMs`. */
  measure(durationMs: number): Promise<BaselineWindow>;
}

/** A baseline that is a server: the same closed loop as the mesh's window, against it. */
export function serverBaseline(options: {
  name: string;
  address: string;
  requests: PreparedRequests<unknown>;
  concurrency: number;
  itemsPerRequest: number;
  timeoutMs: number;
  /** What the load generator presents (TLS, a bearer token), as to the mesh; none for the plaintext echo server. */
  clientOptions?: ClientOptions;
}): PairedBaseline {
  return {
    name: options.name,
    async measure(durationMs) {
      const client = createRawUnaryClient(options.address, options.clientOptions);
      try {
        const window = await runWindow(
          { client, requests: options.requests, concurrency: options.concurrency, timeoutMs: options.timeoutMs },
          { durationMs, maxRequests: 500_000 },
        );
        if (window.errors > 0) throw new Error(`${options.name}: ${window.errors} calls failed (${window.firstError})`);
        return { itemsPerSecond: window.perSecond * options.itemsPerRequest, p50Ms: window.p50Ms, p99Ms: window.p99Ms };
      } finally {
        client.close();
      }
    },
  };
}

/** The naive single-process server of issue 7 (naive-peer-server.ts) with the bench models loaded. */
export interface NaivePeer extends ChildServer {
  /** What its clients present: TLS trusting the mesh CA (with the admin's certificate, as to the gateway) and its bearer token. */
  clientOptions: ClientOptions;
  /** Classify requests (sentiment or encoder-bench) against it, answered and checked once. */
  check(requests: PreparedRequests<ClassifyResponse__Output>, expected: { texts: number }): Promise<void>;
}

export const PEER_PACKAGES: ReadonlyArray<{ model: string; version: string }> = [
  { model: 'sentiment', version: '1' },
  { model: 'encoder-bench', version: '1' },
];

/** The peer's identity in the bench's local PKI: a server certificate from the mesh CA, as the gateway has. */
export const PEER_IDENTITY = 'bench-peer';

/**
 * Starts the peer with security on, as the mesh runs: its certificate issued by the mesh CA in `dataDir` (the one
 * startLocalMesh makes there; made here if the peer comes first) and a fresh token whose SHA-256 it checks.
 */
export async function startNaivePeer(options: { rootDir: string; dataDir: string; profileDir?: string }): Promise<NaivePeer> {
  const pki = await ensureLocalPki({ dir: localPkiDir(options.dataDir), identities: [PEER_IDENTITY, CLI_IDENTITY] });
  const own = pki.files[PEER_IDENTITY]!;
  const admin = pki.files[CLI_IDENTITY]!;
  const token = `peer_${randomBytes(32).toString('base64url')}`;
  const server = await startChildServer({
    name: 'naive peer',
    rootDir: options.rootDir,
    script: path.join(__dirname, 'naive-peer-server.ts'),
    args: [
      '--cert',
      own.certFile,
      '--key',
      own.keyFile,
      '--token-sha256',
      sha256Hex(token),
      ...PEER_PACKAGES.map(({ model, version }) => examplePackage(model, version)),
    ],
    ...(options.profileDir ? { profileDir: options.profileDir } : {}),
  });
  const clientOptions = withBearerToken(
    meshClientOptions(tlsConfig(configReader({ TLS_CERT_FILE: admin.certFile, TLS_KEY_FILE: admin.keyFile, TLS_CA_FILE: admin.caFile }))),
    token,
  );
  return {
    ...server,
    clientOptions,
    async check(requests, expected) {
      const client = createRawUnaryClient(server.address, clientOptions);
      try {
        const response = await callOnce(client, requests);
        if (response.predictions.length !== expected.texts || response.predictions.some((prediction) => !['negative', 'positive'].includes(prediction.label))) {
          throw new Error(`unexpected Classify answer from the naive peer: ${JSON.stringify(response).slice(0, 300)}`);
        }
      } finally {
        client.close();
      }
    },
  };
}

/** Classify requests of `textsPerRequest` texts each for `model` 1, cycling through the bench texts. */
export function classifyRequests(
  texts: readonly string[],
  options: { model: string; textsPerRequest: number; distinct: number },
): PreparedRequests<ClassifyResponse__Output> {
  const requests: ClassifyRequest[] = Array.from({ length: options.distinct }, (_, index) => ({
    model: options.model,
    texts: Array.from({ length: options.textsPerRequest }, (__, k) => texts[(index * options.textsPerRequest + k) % texts.length]!),
  }));
  return prepareRequests(contracts().maas.v1.Gateway.service.Classify, requests);
}

const execFileAsync = promisify(execFile);

/** Runs in-process-limits.ts in its own process; items per second for each batch size. */
export async function inProcessRates(options: {
  rootDir: string;
  mode: 'ort' | 'tokenize';
  model: string;
  version: string;
  durationMs: number;
  batches: number[];
}): Promise<Array<{ batch: number; perSecond: number }>> {
  const { stdout } = await execFileAsync(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(__dirname, 'in-process-limits.ts'),
      options.mode,
      examplePackage(options.model, options.version),
      String(options.durationMs),
      ...options.batches.map(String),
    ],
    { cwd: options.rootDir, maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as Array<{ batch: number; perSecond: number }>;
}

/**
 * Raw ONNX Runtime in one process at its best batch: the batch sizes are tried once (`searchMs` each), and
 * each paired window then runs the best one.
 */
export async function ortLimitBaseline(options: {
  rootDir: string;
  model: string;
  version: string;
  batches: number[];
  searchMs: number;
  log: (line: string) => void;
}): Promise<PairedBaseline> {
  const rates = await inProcessRates({ ...options, mode: 'ort', durationMs: options.searchMs });
  const best = rates.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
  options.log(
    `  in-process ONNX Runtime, ${options.model} ${options.version}: ${rates.map((rate) => `batch ${rate.batch} ${rate.perSecond.toFixed(1)} rows/s`).join(', ')}; best batch ${best.batch}`,
  );
  return {
    name: 'ORT limit',
    async measure(durationMs) {
      const [rate] = await inProcessRates({ ...options, mode: 'ort', durationMs, batches: [best.batch] });
      return { itemsPerSecond: rate!.perSecond, note: `batch ${best.batch}` };
    },
  };
}

/** The tokenizer library inline, `textsPerCall` texts at a time, as the tokenizer benchmark sends them. */
export function inProcessTokenizerBaseline(options: { rootDir: string; model: string; version: string; textsPerCall: number }): PairedBaseline {
  return {
    name: 'in-process',
    async measure(durationMs) {
      const [rate] = await inProcessRates({ ...options, mode: 'tokenize', durationMs, batches: [options.textsPerCall] });
      return { itemsPerSecond: rate!.perSecond };
    },
  };
}
