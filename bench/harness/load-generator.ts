/**
 * Closed-loop load: `concurrency` requests in flight at all times; each answer immediately sends the next
 * prepared request. One process, one connection, no per-request allocation beyond what grpc-js itself does,
 * so the generator takes as little CPU as possible from the services it shares the machine with. Every
 * window is bounded in time and in count, and every call has a deadline.
 */
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { startCpuMeasurement, type CpuShares } from './cpu-usage.js';
import type { BaselineWindow } from './paired-baseline.js';
import type { PreparedRequests, RawUnaryClient } from './raw-unary-client.js';

export interface LoadSpec {
  client: RawUnaryClient;
  requests: PreparedRequests<unknown>;
  /** Requests in flight at once. */
  concurrency: number;
  /** Deadline of each call. */
  timeoutMs: number;
}

/** One measured window. */
export interface WindowResult {
  /** Calls answered OK inside the window. */
  ok: number;
  /** Calls answered with an error inside the window. */
  errors: number;
  /** Error counts by gRPC status name. */
  errorCodes: Record<string, number>;
  firstError?: string;
  seconds: number;
  /** OK answers per second. */
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU shares of the named processes (and the machine) over the window. */
  cpu?: CpuShares;
  /** The paired baselines measured right before this window (see paired-baseline.ts). */
  baselines?: BaselineWindow[];
}

export interface WindowOptions {
  durationMs: number;
  /** Upper bound on calls sent in the window, whatever its duration. */
  maxRequests: number;
  /** Processes whose CPU use to record, by name (the generator's own pid included as you like). */
  cpuPids?: Record<string, number>;
}

const STATUS_NAMES = Object.fromEntries(
  Object.entries(grpc.status)
    .filter(([, value]) => typeof value === 'number')
    .map(([name, value]) => [value, name]),
) as Record<number, string>;

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

/** Runs one window of closed-loop load and resolves once every call it sent has been answered. */
export function runWindow(spec: LoadSpec, options: WindowOptions): Promise<WindowResult> {
  const { client, requests, concurrency, timeoutMs } = spec;
  const { path, bodies } = requests;
  const latencies = new Float64Array(options.maxRequests);
  const errorCodes: Record<string, number> = {};
  let firstError: string | undefined;
  let ok = 0;
  let errors = 0;
  let sent = 0;
  let inFlight = 0;
  let next = 0;
  let lastCounted = 0;
  const stopCpu = options.cpuPids ? startCpuMeasurement(options.cpuPids) : undefined;
  const start = performance.now();
  const end = start + options.durationMs;

  return new Promise((resolve) => {
    const finish = () => {
      const cpu = stopCpu?.();
      const sorted = latencies.subarray(0, ok).sort();
      const seconds = Math.max(lastCounted - start, 1) / 1000;
      resolve({
        ok,
        errors,
        errorCodes,
        ...(firstError === undefined ? {} : { firstError }),
        seconds,
        perSecond: ok / seconds,
        p50Ms: percentile(sorted, 0.5),
        p99Ms: percentile(sorted, 0.99),
        maxMs: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
        ...(cpu ? { cpu } : {}),
      });
    };
    const send = () => {
      const body = bodies[next]!;
      next = next + 1 === bodies.length ? 0 : next + 1;
      const sentAt = performance.now();
      sent += 1;
      inFlight += 1;
      client.call(path, body, timeoutMs, (error) => {
        const now = performance.now();
        inFlight -= 1;
        if (now <= end) {
          lastCounted = now;
          if (error) {
            errors += 1;
            const name = STATUS_NAMES[error.code] ?? String(error.code);
            errorCodes[name] = (errorCodes[name] ?? 0) + 1;
            firstError ??= `${name}: ${error.details || error.message}`;
          } else {
            latencies[ok] = now - sentAt;
            ok += 1;
          }
        }
        if (now < end && sent < options.maxRequests) send();
        else if (inFlight === 0) finish();
      });
    };
    for (let i = 0; i < concurrency && sent < options.maxRequests; i++) send();
  });
}

export interface MeasureOptions extends Omit<WindowOptions, 'durationMs'> {
  /** Measured windows. */
  repetitions: number;
  durationMs: number;
  /** Runs before each measured window (e.g. waiting for the machine to be quiet). */
  beforeWindow?: () => Promise<void>;
}

/** Median and spread over the repetitions. */
export interface MeasureSummary {
  perSecond: number;
  /** Lowest and highest per-second rate of the repetitions. */
  perSecondMin: number;
  perSecondMax: number;
  /** (max − min) / median, in percent. */
  spreadPercent: number;
  p50Ms: number;
  p99Ms: number;
  ok: number;
  errors: number;
  errorCodes: Record<string, number>;
  firstError?: string;
  /** Median CPU share per process over the repetitions, in percent of one core. */
  cpu?: Record<string, number>;
  /** CPU microseconds each process spent per OK request (its median share ÷ the median rate). */
  cpuMicrosPerRequest?: Record<string, number>;
  /** Each paired baseline's medians and the ratios to it, window by window. */
  baselines?: BaselineSummary[];
}

/** Medians over the windows of the paired baseline and of the mesh's ratios to it. */
export interface BaselineSummary {
  name: string;
  itemsPerSecond: number;
  p50Ms?: number;
  p99Ms?: number;
  note?: string;
  /** Median over the windows of (items/s ÷ the baseline's items/s right before), and its range. */
  ratio: number;
  ratioMin: number;
  ratioMax: number;
  /** Median over the windows of (p50 − the baseline's p50), in ms. */
  p50DeltaMs?: number;
  /** Median over the windows of (p99 ÷ the baseline's p99). */
  p99Ratio?: number;
}

export interface Measurement {
  summary: MeasureSummary;
  windows: WindowResult[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** `repetitions` windows (warm up first: see measureVariant); reports the median and the spread. */
export async function measure(spec: LoadSpec, options: MeasureOptions): Promise<Measurement> {
  const windows: WindowResult[] = [];
  for (let i = 0; i < options.repetitions; i++) {
    await options.beforeWindow?.();
    windows.push(await runWindow(spec, options));
  }
  const rates = windows.map((window) => window.perSecond);
  const perSecond = median(rates);
  const errorCodes: Record<string, number> = {};
  for (const window of windows) for (const [code, count] of Object.entries(window.errorCodes)) errorCodes[code] = (errorCodes[code] ?? 0) + count;
  const firstError = windows.find((window) => window.firstError)?.firstError;
  const cpuWindows = windows.filter((window) => window.cpu);
  let cpu: Record<string, number> | undefined;
  if (cpuWindows.length > 0) {
    cpu = {};
    const names = new Set(cpuWindows.flatMap((window) => [...Object.keys(window.cpu!.processes), 'machine', 'other']));
    for (const name of names) {
      const values = cpuWindows
        .map((window) => (name === 'machine' ? window.cpu!.machine : name === 'other' ? window.cpu!.other : window.cpu!.processes[name]))
        .filter((value): value is number => value !== undefined);
      if (values.length) cpu[name] = median(values);
    }
  }
  return {
    summary: {
      perSecond,
      perSecondMin: Math.min(...rates),
      perSecondMax: Math.max(...rates),
      spreadPercent: perSecond > 0 ? ((Math.max(...rates) - Math.min(...rates)) / perSecond) * 100 : 0,
      p50Ms: median(windows.map((window) => window.p50Ms)),
      p99Ms: median(windows.map((window) => window.p99Ms)),
      ok: windows.reduce((sum, window) => sum + window.ok, 0),
      errors: windows.reduce((sum, window) => sum + window.errors, 0),
      errorCodes,
      ...(firstError === undefined ? {} : { firstError }),
      ...(cpu
        ? {
            cpu,
            cpuMicrosPerRequest: Object.fromEntries(
              Object.entries(cpu).map(([name, percent]) => [name, perSecond > 0 ? Math.round((percent * 10_000) / perSecond) : 0]),
            ),
          }
        : {}),
    },
    windows,
  };
}
