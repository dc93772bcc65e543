/** What a benchmark is, what it reports, and the two steps every one of them takes: start a mesh, measure. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { MeshService } from '@maas/cli';
import { startBenchMesh, type BenchMesh } from './bench-mesh.js';
import { startProfiling, type ProcessProfileSummary } from './cpu-profile-summary.js';
import { waitForQuietMachine } from './cpu-usage.js';
import { BASELINE_CONCURRENCY, type EchoBaseline } from './echo-baseline.js';
import { measure, median, runWindow, type MeasureSummary, type WindowResult } from './load-generator.js';
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
  /** The run's echo baseline, started (and warmed up) on first use and kept until the run ends. */
  echo(): Promise<EchoBaseline>;
  log(line: string): void;
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
 * Starts a mesh for one configuration, hands it to `use` (which measures one or more variants on it), and
 * always stops it. With --cpu-prof its services can be profiled (see measureVariant).
 */
export async function withMesh(context: BenchContext, label: string, env: Record<string, string>, use: (mesh: BenchMesh) => Promise<VariantResult[]>): Promise<VariantResult[]> {
  const profileDir = profileDirFor(context, label);
  const started = Date.now();
  const mesh = await startBenchMesh({ rootDir: context.rootDir, dataDir: context.dataDir, env: { ...context.extraEnv, ...env }, ...(profileDir ? { profileDir } : {}) });
  context.log(`  mesh up in ${((Date.now() - started) / 1000).toFixed(1)} s (${Object.entries(mesh.env).map(([name, value]) => `${name}=${value}`).join(' ') || 'defaults'})`);
  try {
    return await use(mesh);
  } catch (error) {
    // A service that died mid-measurement shows up as refused connections: say which one and what it said.
    const exited = Object.entries(mesh.exitCodes()).filter(([, code]) => code !== null);
    const detail = exited.length ? `\nexited: ${exited.map(([service, code]) => `${service} (${code})`).join(', ')}` : '';
    throw new Error(`${label}: ${(error as Error).message}${detail}\nlast service output:\n${mesh.recentLines().join('\n')}`);
  } finally {
    await mesh.stop();
  }
}

export interface VariantSpec {
  benchmark: string;
  variant: string;
  env: Record<string, string>;
  /** What the load goes to (a service name) and where it listens. */
  target: string;
  address: string;
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
  /** Measure the echo baseline right before each window and report the rate as a ratio of it. */
  compareWithEcho?: boolean;
  /** The target has been warmed up already (the echo baseline is when it starts): skip the warm-up. */
  warmedUp?: boolean;
}

/** The VariantSpec fields that point the load at `service` of `mesh` and watch every service. */
export function meshTarget(mesh: BenchMesh, service: MeshService): Pick<VariantSpec, 'env' | 'target' | 'address' | 'pids' | 'metricsPorts' | 'profileDir'> {
  return { env: mesh.env, target: service, address: mesh.addresses[service], pids: mesh.pids, metricsPorts: mesh.metricsPorts, ...(mesh.profileDir ? { profileDir: mesh.profileDir } : {}) };
}

/**
 * Warm-up, then the measured windows against one service of a running mesh: before each window it waits for
 * the machine to be quiet (other work shares these cores) and, when compared with the baseline, measures the
 * echo server for as long; during each it records every process's CPU share; around all of them it reads the
 * services' own histograms (batch sizes, queue waits, hop durations) and, with --cpu-prof, profiles them.
 */
export async function measureVariant(context: BenchContext, spec: VariantSpec): Promise<VariantResult> {
  const { settings } = context;
  const client = createRawUnaryClient(spec.address);
  const load = { client, requests: spec.requests, concurrency: spec.concurrency, timeoutMs: settings.timeoutMs };
  const echo = spec.compareWithEcho ? await context.echo() : undefined;
  const echoClient = echo ? createRawUnaryClient(echo.address) : undefined;
  const echoRates: number[] = [];
  try {
    if (!spec.warmedUp) await runWindow(load, { durationMs: settings.warmupMs, maxRequests: settings.maxRequestsPerWindow });
    let quietBudgetMs = settings.quietWaitMs;
    const finishMetrics = spec.metricsPorts ? await startMetricsDelta(spec.metricsPorts) : undefined;
    // The generator's own profile would mix in the paired echo windows, so it is taken only without them.
    const profiled = spec.compareWithEcho ? spec.pids : { loadgen: process.pid, ...spec.pids };
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
        if (echo && echoClient) {
          const paired = await runWindow(
            { client: echoClient, requests: echo.requests, concurrency: BASELINE_CONCURRENCY, timeoutMs: settings.timeoutMs },
            { durationMs: settings.durationMs, maxRequests: settings.maxRequestsPerWindow },
          );
          echoRates.push(paired.perSecond);
        }
      },
    });
    const { windows } = measured;
    let { summary } = measured;
    if (echoRates.length === windows.length) {
      windows.forEach((window, index) => (window.echoPerSecond = echoRates[index]!));
      const ratios = windows.map((window) => window.perSecond / window.echoPerSecond!);
      summary = { ...summary, echoPerSecond: median(echoRates), vsEcho: median(ratios), vsEchoMin: Math.min(...ratios), vsEchoMax: Math.max(...ratios) };
    }
    const profiles = finishProfiles ? await finishProfiles() : undefined;
    const serviceMeans = finishMetrics ? await finishMetrics() : undefined;
    const errors = summary.errors ? `, ${summary.errors} errors (${summary.firstError})` : '';
    const versusEcho = summary.vsEcho === undefined ? '' : ` = ${summary.vsEcho.toFixed(2)} x echo (${summary.vsEchoMin!.toFixed(2)}–${summary.vsEchoMax!.toFixed(2)}; echo ${summary.echoPerSecond!.toFixed(0)} req/s)`;
    context.log(`  ${spec.variant}: ${summary.perSecond.toFixed(summary.perSecond < 100 ? 1 : 0)} req/s (±${summary.spreadPercent.toFixed(1)}%)${versusEcho}, p50 ${summary.p50Ms.toFixed(2)} ms, p99 ${summary.p99Ms.toFixed(2)} ms${errors}; CPU ${cpuLine(summary.cpu)}`);
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
    };
  } finally {
    client.close();
    echoClient?.close();
  }
}
