/**
 * `npm run bench [-- <name>...] [options]`: runs the benchmarks (all, or the named ones) and prints one table.
 * Rates are reported with their ratio to a baseline measured in the same run, right before each window (the
 * machine has two cores that the load generator shares with the services, and other work may run beside it:
 * absolute numbers move between runs, ratios much less). Results also go to bench/results/latest.json.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { baseline } from './baseline.js';
import { classify } from './classify.js';
import { encoder } from './encoder.js';
import type { BenchMesh } from './harness/bench-mesh.js';
import { profileDirFor, startMesh, type Benchmark, type BenchContext, type BenchSettings, type VariantResult } from './harness/benchmark.js';
import { startEchoBaseline, type EchoBaseline } from './harness/echo-baseline.js';
import { startNaivePeer, type NaivePeer } from './harness/paired-baseline.js';
import { formatBaselines, formatProfiles, formatTable, rate, writeResults } from './harness/report.js';
import { modelInfer } from './model-infer.js';
import { tokenizer } from './tokenizer.js';

const BENCHMARKS: readonly Benchmark[] = [baseline, classify, modelInfer, encoder, tokenizer];
const ROOT_DIR = path.resolve(__dirname, '..');
const RESULTS_DIR = path.join(__dirname, 'results');

const USAGE = `usage: npm run bench -- [benchmark...] [options]

benchmarks (default: all, in this order):
${BENCHMARKS.map((benchmark) => `  ${benchmark.name.padEnd(12)} ${benchmark.title}`).join('\n')}

options:
  --warmup-s N       unrecorded load before measuring, per variant (default 2)
  --duration-s N     length of each measured window (default 5)
  --repetitions N    measured windows per variant; the median is reported (default 3)
  --quiet-wait-s N   before its windows, each variant waits up to N s in all for other work on
                     the machine to stop (default 8; 0: never wait)
  --env NAME=VALUE   extra environment for every service of every mesh, repeatable (a variant's own wins),
                     e.g. --env OTEL_SDK_DISABLED=true
  --all-variants     also measure the knobs beside the defaults (coalescing off, worker and thread counts,
                     inference batching off); about three times as long
  --cpu-prof         profile the load generator and every service during the measured windows (V8 CPU
                     profiles in bench/results/profiles/) and print where their time went
  --output FILE      results JSON (default bench/results/latest.json)
`;

function positiveNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new Error(`--${name} must be a positive number, got ${JSON.stringify(value)}`);
  return number;
}

function nonNegativeNumber(name: string, value: string | undefined, fallback: number): number {
  return value === '0' ? 0 : positiveNumber(name, value, fallback);
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'warmup-s': { type: 'string' },
      'duration-s': { type: 'string' },
      repetitions: { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
      'all-variants': { type: 'boolean', default: false },
      output: { type: 'string' },
      'quiet-wait-s': { type: 'string' },
      env: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const unknown = positionals.filter((name) => !BENCHMARKS.some((benchmark) => benchmark.name === name));
  if (unknown.length > 0) {
    console.error(`unknown benchmark ${unknown.join(', ')}\n\n${USAGE}`);
    return 2;
  }
  const settings: BenchSettings = {
    warmupMs: positiveNumber('warmup-s', values['warmup-s'], 2) * 1000,
    durationMs: positiveNumber('duration-s', values['duration-s'], 5) * 1000,
    repetitions: Math.round(positiveNumber('repetitions', values.repetitions, 3)),
    maxRequestsPerWindow: 500_000,
    timeoutMs: 30_000,
    quietBusyPercent: 30,
    quietWaitMs: nonNegativeNumber('quiet-wait-s', values['quiet-wait-s'], 8) * 1000,
  };
  const wanted = new Set(positionals.length ? positionals : BENCHMARKS.map((benchmark) => benchmark.name));
  const selected = BENCHMARKS.filter((benchmark) => wanted.has(benchmark.name));

  const extraEnv: Record<string, string> = {};
  for (const setting of values.env ?? []) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(setting);
    if (!match) throw new Error(`--env wants NAME=VALUE, got ${JSON.stringify(setting)}`);
    extraEnv[match[1]!] = match[2]!;
  }
  const startedAt = new Date();
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'maas-bench-'));
  const cpuProfileDir = values['cpu-prof'] ? path.join(RESULTS_DIR, 'profiles', startedAt.toISOString().replace(/[:.]/g, '-')) : undefined;
  let echo: Promise<EchoBaseline> | undefined;
  let peer: Promise<NaivePeer> | undefined;
  let defaultMesh: Promise<BenchMesh> | undefined;
  const context: BenchContext = {
    rootDir: ROOT_DIR,
    dataDir: workDir,
    settings,
    extraEnv,
    allVariants: values['all-variants'],
    ...(cpuProfileDir ? { cpuProfileDir } : {}),
    echo: () => {
      const profileDir = echo ? undefined : profileDirFor(context, 'echo');
      echo ??= startEchoBaseline({ rootDir: ROOT_DIR, warmupMs: settings.warmupMs, ...(profileDir ? { profileDir } : {}) });
      return echo;
    },
    peer: () => {
      const profileDir = peer ? undefined : profileDirFor(context, 'peer');
      peer ??= startNaivePeer({ rootDir: ROOT_DIR, dataDir: workDir, ...(profileDir ? { profileDir } : {}) });
      return peer;
    },
    defaultMesh: () => {
      defaultMesh ??= startMesh(context, 'defaults', {});
      return defaultMesh;
    },
    log: (line) => console.log(line),
  };
  console.log(
    `maas bench: ${selected.map((benchmark) => benchmark.name).join(', ')} — ${settings.repetitions} × ${settings.durationMs / 1000} s after ${settings.warmupMs / 1000} s warm-up per variant, ${os.cpus().length} cores`,
  );
  const results: VariantResult[] = [];
  try {
    for (const benchmark of selected) {
      console.log(`\n${benchmark.name}: ${benchmark.title}`);
      results.push(...(await benchmark.run(context)));
    }
  } finally {
    await (await echo?.catch(() => undefined))?.stop();
    await (await peer?.catch(() => undefined))?.stop();
    await (await defaultMesh?.catch(() => undefined))?.stop();
    rmSync(workDir, { recursive: true, force: true });
  }

  const rated = rate(results);
  console.log(`\n${formatTable(rated)}`);
  console.log('\nreq/s, items/s and latencies: median of the windows; spread: (max − min) / median of req/s; x first: req/s ÷ the first');
  console.log('variant of the same benchmark; CPU: median % of one core per process (gen = load generator).');
  console.log('Against each baseline measured right before every window (echo server, naive peer, in-process limits): the medians');
  console.log('over the windows of items/s ÷ its items/s, p50 − its p50, p99 ÷ its p99.');
  const baselines = formatBaselines(rated);
  if (baselines) console.log(`\n${baselines}`);
  if (context.cpuProfileDir) console.log(`\n${formatProfiles(rated)}`);
  const output = path.resolve(values.output ?? path.join(RESULTS_DIR, 'latest.json'));
  writeResults(output, { settings, startedAt, results: rated });
  console.log(`\nresults: ${path.relative(process.cwd(), output)}`);
  return rated.some((result) => result.summary.errors > 0) ? 1 : 0;
}

// Ctrl-C: exit through process.exit so the launchers' exit hooks stop the services they started.
process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
