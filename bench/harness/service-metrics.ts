/**
 * What the services say about a measurement, from their own Prometheus endpoints: every `maas_*` histogram's
 * count and mean over the measured windows (scraped before and after), e.g. texts per coalesced batch at the
 * gateway, rows per batch and queue wait at inference, encode time at the tokenizer. They explain a rate:
 * how big the batches really were and where a request's time went inside the mesh.
 */
import http from 'node:http';

/** One histogram (per service, per `hop`/`method` label when it has one): calls and their mean. */
export interface HistogramMean {
  service: string;
  /** Family name, with the hop or method it was split by, e.g. "maas_gateway_downstream_duration_seconds{hop=inference}". */
  name: string;
  count: number;
  /** Mean value; for *_seconds families in milliseconds. */
  mean: number;
  unit: 'ms' | '';
}

type Totals = Map<string, { sum: number; count: number }>;

const SPLIT_LABELS = ['hop', 'method'];

function scrape(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/metrics', timeout: 5_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve(body));
    });
    request.on('timeout', () => request.destroy(new Error(`metrics scrape of port ${port} timed out`)));
    request.on('error', reject);
  });
}

/** Sums every maas_* histogram's _sum and _count over its label sets, keeping only the split labels. */
function histogramTotals(text: string): Totals {
  const totals: Totals = new Map();
  for (const line of text.split('\n')) {
    const match = /^(maas_[a-z0-9_]+)_(sum|count)(?:\{([^}]*)\})? ([0-9.eE+-]+|NaN)$/.exec(line);
    if (!match) continue;
    const [, family, part, labels = '', value] = match;
    const split = SPLIT_LABELS.map((label) => new RegExp(`(?:^|,)${label}="([^"]*)"`).exec(labels))
      .map((found, index) => (found ? `${SPLIT_LABELS[index]}=${found[1]}` : ''))
      .filter(Boolean);
    const key = split.length ? `${family}{${split.join(',')}}` : family!;
    const entry = totals.get(key) ?? { sum: 0, count: 0 };
    entry[part as 'sum' | 'count'] += Number(value);
    totals.set(key, entry);
  }
  return totals;
}

/** Scrapes every service now; the returned function scrapes again and gives the means of what happened between. */
export async function startMetricsDelta(metricsPorts: Record<string, number>): Promise<() => Promise<HistogramMean[]>> {
  const scrapeAll = async () =>
    new Map(await Promise.all(Object.entries(metricsPorts).map(async ([service, port]) => [service, histogramTotals(await scrape(port))] as const)));
  const before = await scrapeAll();
  return async () => {
    const after = await scrapeAll();
    const means: HistogramMean[] = [];
    for (const [service, totals] of after) {
      for (const [name, { sum, count }] of totals) {
        const earlier = before.get(service)?.get(name) ?? { sum: 0, count: 0 };
        const calls = count - earlier.count;
        if (calls <= 0) continue;
        const seconds = /_seconds(\{|$)/.test(name);
        means.push({ service, name, count: calls, mean: ((sum - earlier.sum) / calls) * (seconds ? 1000 : 1), unit: seconds ? 'ms' : '' });
      }
    }
    return means;
  };
}

/** The few means that explain a mesh rate, in one line (the rest are in the JSON). */
export function formatKeyMeans(means: HistogramMean[]): string {
  const pick = (name: string) => means.find((mean) => mean.name === name);
  const parts: string[] = [];
  const add = (label: string, name: string, digits: number) => {
    const mean = pick(name);
    if (mean) parts.push(`${label} ${mean.mean.toFixed(digits)}${mean.unit ? ` ${mean.unit}` : ''}`);
  };
  add('gateway texts/batch', 'maas_gateway_batch_size_texts', 1);
  add('gateway queue', 'maas_gateway_queue_wait_seconds', 2);
  add('→tokenizer', 'maas_gateway_downstream_duration_seconds{hop=tokenizer}', 2);
  add('→inference', 'maas_gateway_downstream_duration_seconds{hop=inference}', 2);
  add('tokenizer texts/call', 'maas_tokenizer_batch_size_texts', 1);
  add('encode', 'maas_tokenizer_encode_duration_seconds', 2);
  add('inference rows/batch', 'maas_inference_batch_size_rows', 1);
  add('requests/batch', 'maas_inference_batch_size_requests', 1);
  add('queue', 'maas_inference_queue_wait_seconds', 2);
  add('compute', 'maas_inference_compute_seconds', 2);
  return parts.join(', ');
}
