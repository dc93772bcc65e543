/**
 * A small parser of the Prometheus text exposition format (what every service's /metrics answers by default),
 * enough to read counters and histogram buckets: `name{label="value",...} value [timestamp]`. Comments, HELP
 * and TYPE lines are skipped; an OpenMetrics exemplar (` # {...} v`) after a sample is ignored.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseMetricsText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const sample = parseSampleLine(line);
    if (sample) samples.push(sample);
  }
  return samples;
}

function parseSampleLine(line: string): Sample | undefined {
  let index = 0;
  while (index < line.length && line[index] !== '{' && line[index] !== ' ') index += 1;
  const name = line.slice(0, index);
  const labels: Record<string, string> = {};
  if (line[index] === '{') {
    index += 1;
    while (index < line.length && line[index] !== '}') {
      const equals = line.indexOf('=', index);
      if (equals === -1) return undefined;
      const key = line.slice(index, equals).trim().replace(/^,/, '').trim();
      if (line[equals + 1] !== '"') return undefined;
      let value = '';
      let cursor = equals + 2;
      // Label values escape backslash, double quote and newline.
      while (cursor < line.length && line[cursor] !== '"') {
        if (line[cursor] === '\\') {
          const next = line[cursor + 1];
          value += next === 'n' ? '\n' : (next ?? '');
          cursor += 2;
        } else {
          value += line[cursor];
          cursor += 1;
        }
      }
      labels[key] = value;
      index = cursor + 1;
      while (line[index] === ',' || line[index] === ' ') index += 1;
    }
    index += 1;
  }
  const rest = line.slice(index).split(' # ')[0]!.trim().split(/\s+/);
  const value = parseValue(rest[0]);
  if (!name || value === undefined) return undefined;
  return { name, labels, value };
}

function parseValue(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const value = Number(text);
  return Number.isNaN(value) ? undefined : value;
}

/** Sum of the samples named `name` whose labels include `match` (a value array matches any of its values). */
export function sumSamples(samples: readonly Sample[], name: string, match: Record<string, string | readonly string[]>): number {
  let total = 0;
  for (const sample of samples) if (sample.name === name && matches(sample.labels, match)) total += sample.value;
  return total;
}

function matches(labels: Record<string, string>, match: Record<string, string | readonly string[]>): boolean {
  for (const [key, wanted] of Object.entries(match)) {
    const value = labels[key];
    if (typeof wanted === 'string' ? value !== wanted : !wanted.includes(value ?? '')) return false;
  }
  return true;
}

/** Cumulative bucket counts (le → count) of histogram `name` summed over every matching series. */
export function histogramBuckets(samples: readonly Sample[], name: string, match: Record<string, string>): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const sample of samples) {
    if (sample.name !== `${name}_bucket` || !matches(sample.labels, match)) continue;
    const le = sample.labels.le === '+Inf' ? Infinity : Number(sample.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + sample.value);
  }
  return buckets;
}

/** Bucket counts of `later` minus `earlier` (a window's histogram from two scrapes). */
export function bucketDelta(later: Map<number, number>, earlier: Map<number, number>): Map<number, number> {
  const delta = new Map<number, number>();
  for (const [le, count] of later) delta.set(le, Math.max(0, count - (earlier.get(le) ?? 0)));
  return delta;
}

/**
 * The q-quantile of cumulative buckets, interpolated linearly within the bucket as Prometheus'
 * histogram_quantile does; 0 for an empty histogram; the highest finite bound when it falls in +Inf.
 */
export function bucketQuantile(q: number, buckets: Map<number, number>): number {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Infinity) ?? (bounds.length ? buckets.get(bounds[bounds.length - 1]!)! : 0);
  if (!total) return 0;
  const rank = q * total;
  let previousBound = 0;
  let previousCount = 0;
  for (const bound of bounds) {
    const count = buckets.get(bound)!;
    if (count >= rank) {
      if (bound === Infinity) return previousBound;
      if (count === previousCount) return bound;
      return previousBound + ((bound - previousBound) * (rank - previousCount)) / (count - previousCount);
    }
    previousBound = bound;
    previousCount = count;
  }
  return previousBound;
}
