/** What a benchmark is, what it reports, and the two steps every one of them takes: start a mesh, measure. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { MeshService } from '@maas/cli';
import { startBenchMesh, type BenchMesh } from './bench-mesh.js';
import { startProfiling, type ProcessProfileSummary } from './cpu-profile-summary.js';
import { waitForQuietMachine } from './cpu-usage.js';
import type { EchoBaseline } from './echo-baseline.js';
import { measure, median, runWindow, type BaselineSummary, type MeasureSummary, type WindowResult } from './load-generator.js';
import type { BaselineWindow, NaivePeer, PairedBaseline } from './paired-baseline.js';
import type { ClientOptions } from '@maas/shared';
import { createRawUnaryClient, type PreparedRequests } from './raw-unary-client.js';
import { cpuLine } from './report.js';
import { formatKeyMeans, startMetricsDelta, type HistogramMean } from './service-metrics.js';

export interface BenchSettings {
  warmupMs: number;
  durationMs: number;
  repetitions: number;
  /** Bound on the calls of one window, whatever its duration. */
  maxRequestsPerWindow: number;
  /** Deadline of each call. */
  timeoutMs: number;
  /** A window starts once the machine is at most this busy (percent of one core)... */
  quietBusyPercent: number;
  /** ...or once the variant's windows have waited this long in all. */
  quietWaitMs: number;
}

export interface BenchContext {
  rootDir: string;
  /** Registry data and model cache, shared by every mesh of the run. */
  dataDir: string;
  settings: BenchSettings;
  /** Set with --env: added to every mesh's environment (a variant's own settings win). */
  extraEnv: Record<string, string>;
  /** Set with --cpu-prof: the processes' CPU profiles go below it. */
  cpuProfileDir?: string;
  /** Run every variant, not only the ones `npm run bench` measures by default. */
  allVariants: boolean;
  /** The run's echo baseline, started (and warmed up) on first use and kept until the run ends. */
  echo(): Promise<EchoBaseline>;
  /** The run's naive single-process peer (issue 7's yardstick), started on first use and kept until the run ends. */
  peer(): Promise<NaivePeer>;
  /** A mesh at `npm start`'s defaults, shared by every benchmark that measures the defaults; started on first use. */
  defaultMesh(): Promise<BenchMesh>;
  log(line: string): void;
}

/** What issue 7 asks of a workload against its paired baseline; the run prints whether each was met. */
export interface Goal {
  /** items/s ≥ this × the baseline's. */
  ratioAtLeast?: number;
  /** p50 ≤ the baseline's p50 + this many ms. */
  p50DeltaAtMostMs?: number;
  /** p99 ≤ this × the baseline's p99. */
  p99RatioAtMost?: number;
}

/** One measured configuration. */
export interface VariantResult {
  benchmark: string;
  variant: string;
  /** Environment the services ran with (beyond the defaults). */
  env: Record<string, string>;
  /** gRPC method the load called. */
  method: string;
  target: string;
  concurrency: number;
  /** Texts or rows one request carries, and what they are. */
  itemsPerRequest: number;
  itemName: string;
  summary: MeasureSummary;
  windows: WindowResult[];
  /** Mean of every service histogram over the measured windows (mesh benchmarks). */
  serviceMeans?: HistogramMean[];
  /** Where the services' CPU time went, with --cpu-prof. */
  profiles?: ProcessProfileSummary[];
  /** What issue 7 asks of it against each paired baseline, by the baseline's name. */
  goals?: Record<string, Goal>;
}

export interface Benchmark {
  name: string;
  /** One line: what it measures. */
  title: string;
  run(context: BenchContext): Promise<VariantResult[]>;
}

/** With --cpu-prof: a fresh folder for the profiles of one configuration's processes. */
export function profileDirFor(context: BenchContext, label: string): string | undefined {
  if (!context.cpuProfileDir) return undefined;
  const dir = path.join(context.cpuProfileDir, label.replace(/[^a-z0-9-]+/gi, '_'));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Hands `use` (which measures one or more variants) a mesh for one configuration: the run's shared mesh at the
 * defaults when `env` turns no knob, else a mesh of its own, started here and always stopped. With --cpu-prof
 * its services can be profiled (see measureVariant).
 */
export async function withMesh(
  context: BenchContext,
  label: string,
  env: Record<string, string>,
  use: (mesh: BenchMesh) => Promise<VariantResult[]>,
): Promise<VariantResult[]> {
  const shared = Object.keys(env).length === 0;
  const mesh = shared ? await context.defaultMesh() : await startMesh(context, label, env);
  try {
    return await use(mesh);
  } catch (error) {
    // A service that died mid-measurement shows up as refused connections: say which one and what it said.
    const exited = Object.entries(mesh.exitCodes()).filter(([, code]) => code !== null);
    const detail = exited.length ? `\nexited: ${exited.map(([service, code]) => `${service} (${code})`).join(', ')}` : '';
    throw new Error(`${label}: ${(error as Error).message}${detail}\nlast service output:\n${mesh.recentLines().join('\n')}`, { cause: error });
  } finally {
    if (!shared) await mesh.stop();
  }
}

/** Starts a mesh with the run's extra environment and `env`, logging how long it took. */
export async function startMesh(context: BenchContext, label: string, env: Record<string, string>): Promise<BenchMesh> {
  const profileDir = profileDirFor(context, label);
  const started = Date.now();
  const mesh = await startBenchMesh({
    rootDir: context.rootDir,
    dataDir: context.dataDir,
    env: { ...context.extraEnv, ...env },
    ...(profileDir ? { profileDir } : {}),
  });
  context.log(
    `  mesh up in ${((Date.now() - started) / 1000).toFixed(1)} s (${
      Object.entries(mesh.env)
        .map(([name, value]) => `${name}=${value}`)
        .join(' ') || 'defaults'
    })`,
  );
  return mesh;
}

export interface VariantSpec {
  benchmark: string;
  variant: string;
  env: Record<string, string>;
  /** What the load goes to (a service name) and where it listens. */
  target: string;
  address: string;
  /** TLS and bearer token for `address` (the mesh's admin credential); none: plaintext. */
  clientOptions?: ClientOptions;
  /** Processes whose CPU use to record besides the load generator, by name. */
  pids: Record<string, number>;
  /** Metrics ports of the services, by name, to read their histograms from. */
  metricsPorts?: Record<string, number>;
  /** Set when the processes were started with the profiling preload (--cpu-prof): profile the windows. */
  profileDir?: string;
  requests: PreparedRequests<unknown>;
  concurrency: number;
  itemsPerRequest: number;
  itemName: string;
  /** Measure these baselines right before each window and report the rate (and latencies) against each. */
  pairWith?: Array<{ baseline: PairedBaseline; goal?: Goal }>;
  /** The target has been warmed up already (the echo baseline is when it starts): skip the warm-up. */
  warmedUp?: boolean;
}

/** The VariantSpec fields that point the load at `service` of `mesh` and watch every service. */
export function meshTarget(
  mesh: BenchMesh,
  service: MeshService,
): Pick<VariantSpec, 'env' | 'target' | 'address' | 'clientOptions' | 'pids' | 'metricsPorts' | 'profileDir'> {
  return {
    env: mesh.env,
    target: service,
    address: mesh.addresses[service],
    clientOptions: mesh.clientOptions,
    pids: mesh.pids,
    metricsPorts: mesh.metricsPorts,
    ...(mesh.profileDir ? { profileDir: mesh.profileDir } : {}),
  };
}

/**
 * Warm-up, then the measured windows against one service of a running mesh: before each window it waits for
 * the machine to be quiet (other work shares these cores) and, when compared with the baseline, measures the
 * echo server for as long; during each it records every process's CPU share; around all of them it reads the
 * services' own histograms (batch sizes, queue waits, hop durations) and, with --cpu-prof, profiles them.
 */
export async function measureVariant(context: BenchContext, spec: VariantSpec): Promise<VariantResult> {
  const { settings } = context;
  const client = createRawUnaryClient(spec.address, spec.clientOptions);
  const load = { client, requests: spec.requests, concurrency: spec.concurrency, timeoutMs: settings.timeoutMs };
  const pairs = spec.pairWith ?? [];
  const paired: BaselineWindow[][] = pairs.map(() => []);
  try {
    if (!spec.warmedUp) await runWindow(load, { durationMs: settings.warmupMs, maxRequests: settings.maxRequestsPerWindow });
    let quietBudgetMs = settings.quietWaitMs;
    const finishMetrics = spec.metricsPorts ? await startMetricsDelta(spec.metricsPorts) : undefined;
    // The generator's own profile would mix in the paired baseline windows, so it is taken only without them.
    const profiled = pairs.length > 0 ? spec.pids : { loadgen: process.pid, ...spec.pids };
    const finishProfiles = spec.profileDir ? startProfiling(spec.profileDir, profiled) : undefined;
    const measured = await measure(load, {
      durationMs: settings.durationMs,
      repetitions: settings.repetitions,
      maxRequests: settings.maxRequestsPerWindow,
      cpuPids: { loadgen: process.pid, ...spec.pids },
      // One waiting budget per variant, so a machine that stays busy slows the run by at most that much.
      beforeWindow: async () => {
        const quiet = await waitForQuietMachine({ maxBusyPercent: settings.quietBusyPercent, maxWaitMs: Math.max(0, quietBudgetMs) });
        quietBudgetMs -= quiet.waitedMs;
        if (quiet.busyPercent > settings.quietBusyPercent) context.log(`  (machine ${quiet.busyPercent.toFixed(0)}% busy with other work: measuring anyway)`);
        for (const [index, { baseline }] of pairs.entries()) paired[index]!.push(await baseline.measure(settings.durationMs));
      },
    });
    const { windows } = measured;
    let { summary } = measured;
    if (pairs.length > 0) {
      windows.forEach((window, index) => (window.baselines = paired.map((runs) => runs[index]!)));
      summary = { ...summary, baselines: pairs.map(({ baseline }, index) => summarizeBaseline(baseline.name, windows, paired[index]!, spec.itemsPerRequest)) };
    }
    const profiles = finishProfiles ? await finishProfiles() : undefined;
    const serviceMeans = finishMetrics ? await finishMetrics() : undefined;
    const errors = summary.errors ? `, ${summary.errors} errors (${summary.firstError})` : '';
    context.log(
      `  ${spec.variant}: ${summary.perSecond.toFixed(summary.perSecond < 100 ? 1 : 0)} req/s (±${summary.spreadPercent.toFixed(1)}%), p50 ${summary.p50Ms.toFixed(2)} ms, p99 ${summary.p99Ms.toFixed(2)} ms${errors}; CPU ${cpuLine(summary.cpu)}${(summary.baselines ?? []).map(baselineLine).join('')}`,
    );
    if (serviceMeans?.length) context.log(`    inside: ${formatKeyMeans(serviceMeans)}`);
    return {
      benchmark: spec.benchmark,
      variant: spec.variant,
      env: spec.env,
      method: spec.requests.path,
      target: spec.target,
      concurrency: spec.concurrency,
      itemsPerRequest: spec.itemsPerRequest,
      itemName: spec.itemName,
      summary,
      windows,
      ...(serviceMeans ? { serviceMeans } : {}),
      ...(profiles ? { profiles } : {}),
      ...(pairs.some((pair) => pair.goal)
        ? { goals: Object.fromEntries(pairs.filter((pair) => pair.goal).map((pair) => [pair.baseline.name, pair.goal!])) }
        : {}),
    };
  } finally {
    client.close();
  }
}

/** Medians over the windows of the paired baseline and of the ratios to it, each ratio taken window by window. */
function summarizeBaseline(name: string, windows: WindowResult[], baselineWindows: BaselineWindow[], itemsPerRequest: number): BaselineSummary {
  const pairs = windows.map((window, index) => ({ window, base: baselineWindows[index]! }));
  const ratios = pairs.map(({ window, base }) => (window.perSecond * itemsPerRequest) / base.itemsPerSecond);
  const latencies = pairs.every(({ base }) => base.p50Ms !== undefined && base.p99Ms !== undefined);
  const note = pairs[0]!.base.note;
  return {
    name,
    itemsPerSecond: median(pairs.map(({ base }) => base.itemsPerSecond)),
    ratio: median(ratios),
    ratioMin: Math.min(...ratios),
    ratioMax: Math.max(...ratios),
    ...(note ? { note } : {}),
    ...(latencies
      ? {
          p50Ms: median(pairs.map(({ base }) => base.p50Ms!)),
          p99Ms: median(pairs.map(({ base }) => base.p99Ms!)),
          p50DeltaMs: median(pairs.map(({ window, base }) => window.p50Ms - base.p50Ms!)),
          p99Ratio: median(pairs.map(({ window, base }) => window.p99Ms / base.p99Ms!)),
        }
      : {}),
  };
}

function baselineLine(baseline: BaselineSummary): string {
  const latency =
    baseline.p50DeltaMs === undefined
      ? ''
      : `, p50 ${baseline.p50DeltaMs >= 0 ? '+' : ''}${baseline.p50DeltaMs.toFixed(2)} ms, p99 ${baseline.p99Ratio!.toFixed(2)}x`;
  return `\n    vs ${baseline.name}: ${baseline.ratio.toFixed(2)}x (${baseline.ratioMin.toFixed(2)}–${baseline.ratioMax.toFixed(2)}; ${baseline.name} ${baseline.itemsPerSecond.toFixed(0)} items/s${baseline.note ? `, ${baseline.note}` : ''})${latency}`;
}
