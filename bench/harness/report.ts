/** The run's results: ratios, the console table and bench/results/latest.json. */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchSettings, VariantResult } from './benchmark.js';

export interface RatedResult extends VariantResult {
  /** Rate ÷ the rate of its benchmark's first variant in this run. */
  vsFirstVariant: number;
}

export function rate(results: VariantResult[]): RatedResult[] {
  return results.map((result) => {
    const first = results.find((other) => other.benchmark === result.benchmark)!;
    return { ...result, vsFirstVariant: result.summary.perSecond / first.summary.perSecond };
  });
}

const SHORT_NAMES: Record<string, string> = {
  loadgen: 'gen',
  gateway: 'gw',
  tokenizer: 'tok',
  inference: 'inf',
  'model-registry': 'reg',
  echo: 'echo',
  other: 'other',
};

/** "gen 45 gw 80 tok 30 inf 41 other 2": median CPU % of one core per process, the small ones left out. */
export function cpuLine(cpu: Record<string, number> | undefined): string {
  if (!cpu) return '';
  return Object.entries(SHORT_NAMES)
    .filter(([name]) => (cpu[name] ?? 0) >= 1)
    .map(([name, short]) => `${short} ${Math.round(cpu[name]!)}`)
    .join(' ');
}

const fixed = (value: number | undefined, digits: number) => (value === undefined || Number.isNaN(value) ? '' : value.toFixed(digits));

/** A plain-text table, one row per variant. */
export function formatTable(results: RatedResult[]): string {
  const header = ['benchmark', 'variant', 'in flight', 'req/s', 'spread', 'items/s', 'p50 ms', 'p99 ms', 'x first', 'errors', 'CPU % of a core'];
  const rows = results.map((result) => [
    result.benchmark,
    result.variant,
    String(result.concurrency),
    fixed(result.summary.perSecond, result.summary.perSecond < 100 ? 1 : 0),
    `±${fixed(result.summary.spreadPercent, 1)}%`,
    result.itemsPerRequest > 1 ? `${fixed(result.summary.perSecond * result.itemsPerRequest, 0)} ${result.itemName}s` : '',
    fixed(result.summary.p50Ms, 2),
    fixed(result.summary.p99Ms, 2),
    fixed(result.vsFirstVariant, 2),
    String(result.summary.errors),
    cpuLine(result.summary.cpu),
  ]);
  return textTable(header, rows, new Set([2, 3, 5, 6, 7, 8, 9]));
}

function textTable(header: string[], rows: string[][], numeric: Set<number>): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

/** Whether a measured value meets its goal: "yes" / "NO", or '' without a goal. */
function verdict(met: boolean | undefined): string {
  return met === undefined ? '' : met ? 'yes' : 'NO';
}

/**
 * One row per (variant, paired baseline): the baseline's own numbers, the variant's ratios to it (medians of
 * the window-by-window ratios), and issue 7's goals with whether they were met.
 */
export function formatBaselines(results: RatedResult[]): string {
  const header = ['benchmark', 'variant', 'vs', 'its items/s', 'its p50', 'its p99', 'items/s ratio', 'p50 − its', 'p99 ratio', 'goal', 'met'];
  const rows: string[][] = [];
  for (const result of results) {
    for (const baseline of result.summary.baselines ?? []) {
      const goal = result.goals?.[baseline.name];
      const goals: string[] = [];
      const met: boolean[] = [];
      if (goal?.ratioAtLeast !== undefined) {
        goals.push(`≥ ${goal.ratioAtLeast}x`);
        met.push(baseline.ratio >= goal.ratioAtLeast);
      }
      if (goal?.p50DeltaAtMostMs !== undefined && baseline.p50DeltaMs !== undefined) {
        goals.push(`p50 ≤ +${goal.p50DeltaAtMostMs} ms`);
        met.push(baseline.p50DeltaMs <= goal.p50DeltaAtMostMs);
      }
      if (goal?.p99RatioAtMost !== undefined && baseline.p99Ratio !== undefined) {
        goals.push(`p99 ≤ ${goal.p99RatioAtMost}x`);
        met.push(baseline.p99Ratio <= goal.p99RatioAtMost);
      }
      rows.push([
        result.benchmark,
        result.variant,
        baseline.note ? `${baseline.name} (${baseline.note})` : baseline.name,
        fixed(baseline.itemsPerSecond, baseline.itemsPerSecond < 100 ? 1 : 0),
        fixed(baseline.p50Ms, 2),
        fixed(baseline.p99Ms, 2),
        `${fixed(baseline.ratio, 2)} (${fixed(baseline.ratioMin, 2)}–${fixed(baseline.ratioMax, 2)})`,
        baseline.p50DeltaMs === undefined ? '' : `${baseline.p50DeltaMs >= 0 ? '+' : ''}${fixed(baseline.p50DeltaMs, 2)}`,
        fixed(baseline.p99Ratio, 2),
        goals.join(', '),
        verdict(met.length ? met.every(Boolean) : undefined),
      ]);
    }
  }
  return rows.length ? textTable(header, rows, new Set([3, 4, 5, 6, 7, 8])) : '';
}

/** Where each process's CPU time went during the measured windows (with --cpu-prof). */
export function formatProfiles(results: RatedResult[]): string {
  const out: string[] = [];
  for (const result of results) {
    for (const profile of result.profiles ?? []) {
      if (profile.busyMs < 100) continue;
      out.push(`${result.benchmark} / ${result.variant} — ${profile.process}, busy ${(profile.busyMs / 1000).toFixed(1)} s:`);
      out.push(`  by package: ${profile.byPackage.map((share) => `${share.name} ${share.percent}%`).join(', ')}`);
      out.push(
        `  top: ${profile.topFunctions
          .slice(0, 6)
          .map((share) => `${share.name} ${share.percent}%`)
          .join('; ')}`,
      );
    }
  }
  return out.join('\n');
}

export function writeResults(file: string, options: { settings: BenchSettings; startedAt: Date; results: RatedResult[] }): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const cpu = os.cpus();
  const document = {
    startedAt: options.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: {
      cpuModel: cpu[0]?.model ?? 'unknown',
      cores: cpu.length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
    },
    settings: options.settings,
    results: options.results,
  };
  writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
}
