/**
 * Analysis: candidate and stable compared over the same window, from the mesh's own metrics.
 * - requests and errors per version: maas_inference_requests_total{model, version, code} (server-side codes
 *   count as errors, the same set as the observability rules);
 * - p99 latency per version: maas_inference_compute_seconds (the model's own cost, not the queue the other
 *   version's traffic causes);
 * - agreement and score difference: the gateway's shadow-traffic counters
 *   maas_gateway_mirror_predictions_total{agreement} and maas_gateway_mirror_score_difference for the pair.
 * Two sources: the services' /metrics scraped directly (a window is the delta of two scrapes, summed over
 * every target), or a Prometheus HTTP API (increase()/histogram_quantile() over the window).
 */
import type { AnalysisRecord, AnalysisThresholds, VersionFigures, WindowFigures } from './model-rollout.js';
import { bucketDelta, bucketQuantile, histogramBuckets, parseMetricsText, sumSamples, type Sample } from './metrics-text.js';

/** Codes that mean the server failed (a client's bad input is not the candidate's fault). */
export const SERVER_ERROR_CODES = ['UNKNOWN', 'INTERNAL', 'UNAVAILABLE', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED', 'DATA_LOSS'] as const;

export interface PairKey {
  model: string;
  stable: string;
  candidate: string;
}

/** A started window: `figures` measures from its start to now. */
export interface AnalysisWindow {
  readonly startedAt: Date;
  figures(): Promise<WindowFigures>;
}

export interface MetricsSource {
  /** Starts a window for the pair. */
  begin(pair: PairKey): Promise<AnalysisWindow>;
  /** Readiness of each version the gateways route to (least ready over gateways), version → ready. */
  readiness(model: string): Promise<Map<string, boolean>>;
}

/** Scrapes each target's /metrics (text format) and works on the samples of all of them together. */
export class ScrapeMetricsSource implements MetricsSource {
  constructor(private readonly options: { targets: readonly string[]; timeoutMs: number }) {}

  async scrape(): Promise<Sample[]> {
    const texts = await Promise.all(
      this.options.targets.map(async (url) => {
        const response = await fetch(url, { signal: AbortSignal.timeout(this.options.timeoutMs) });
        if (!response.ok) throw new Error(`scraping ${url}: HTTP ${response.status}`);
        return response.text();
      }),
    );
    return texts.flatMap((text) => parseMetricsText(text));
  }

  async begin(pair: PairKey): Promise<AnalysisWindow> {
    const startedAt = new Date();
    const before = await this.scrape();
    return {
      startedAt,
      figures: async () => windowFromScrapes(pair, before, await this.scrape(), (Date.now() - startedAt.getTime()) / 1000),
    };
  }

  async readiness(model: string): Promise<Map<string, boolean>> {
    const ready = new Map<string, boolean>();
    for (const sample of await this.scrape()) {
      if (sample.name !== 'maas_gateway_routable_versions' || sample.labels.model !== model) continue;
      const version = sample.labels.version!;
      ready.set(version, (ready.get(version) ?? true) && sample.value === 1);
    }
    return ready;
  }
}

/** The figures of a window from the scrapes at its start and end. */
export function windowFromScrapes(pair: PairKey, before: readonly Sample[], after: readonly Sample[], windowSeconds: number): WindowFigures {
  const delta = (name: string, match: Record<string, string | readonly string[]>) =>
    Math.max(0, sumSamples(after, name, match) - sumSamples(before, name, match));
  const version = (label: string): VersionFigures => {
    const requests = delta('maas_inference_requests_total', { model: pair.model, version: label });
    const errors = delta('maas_inference_requests_total', { model: pair.model, version: label, code: SERVER_ERROR_CODES });
    const match = { model: pair.model, version: label };
    const buckets = bucketDelta(
      histogramBuckets(after, 'maas_inference_compute_seconds', match),
      histogramBuckets(before, 'maas_inference_compute_seconds', match),
    );
    return { requests, errors, errorRatio: requests ? errors / requests : 0, p99LatencySeconds: bucketQuantile(0.99, buckets) };
  };
  const pairLabels = { model: pair.model, stable_version: pair.stable, candidate_version: pair.candidate };
  const agree = delta('maas_gateway_mirror_predictions_total', { ...pairLabels, agreement: 'agree' });
  const disagree = delta('maas_gateway_mirror_predictions_total', { ...pairLabels, agreement: 'disagree' });
  const differenceSum = delta('maas_gateway_mirror_score_difference_sum', pairLabels);
  const differenceCount = delta('maas_gateway_mirror_score_difference_count', pairLabels);
  const mirroredPredictions = agree + disagree;
  return {
    windowSeconds,
    stable: version(pair.stable),
    candidate: version(pair.candidate),
    mirroredPredictions,
    ...(mirroredPredictions > 0 ? { agreement: agree / mirroredPredictions } : {}),
    ...(differenceCount > 0 ? { scoreDifference: differenceSum / differenceCount } : {}),
  };
}

/** Reads the same figures from a Prometheus server's HTTP API (/api/v1/query). */
export class PrometheusMetricsSource implements MetricsSource {
  constructor(private readonly options: { url: string; timeoutMs: number }) {}

  private async query(promql: string): Promise<Array<{ metric: Record<string, string>; value: number }>> {
    const url = new URL('/api/v1/query', this.options.url);
    url.searchParams.set('query', promql);
    const response = await fetch(url, { signal: AbortSignal.timeout(this.options.timeoutMs) });
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    };
    if (!response.ok || body.status !== 'success') throw new Error(`Prometheus query ${promql}: ${body.error ?? `HTTP ${response.status}`}`);
    return (body.data?.result ?? []).map((row) => ({ metric: row.metric, value: Number(row.value[1]) }));
  }

  private async scalar(promql: string): Promise<number> {
    const rows = await this.query(promql);
    const value = rows[0]?.value;
    return value === undefined || Number.isNaN(value) ? 0 : value;
  }

  async begin(pair: PairKey): Promise<AnalysisWindow> {
    const startedAt = new Date();
    return {
      startedAt,
      figures: async () => {
        const windowSeconds = Math.max(1, Math.round((Date.now() - startedAt.getTime()) / 1000));
        const range = `[${windowSeconds}s]`;
        const q = (value: string) => JSON.stringify(value);
        const version = async (label: string): Promise<VersionFigures> => {
          const selector = `model=${q(pair.model)},version=${q(label)}`;
          const requests = await this.scalar(`sum(increase(maas_inference_requests_total{${selector}}${range}))`);
          const errors = await this.scalar(`sum(increase(maas_inference_requests_total{${selector},code=~"${SERVER_ERROR_CODES.join('|')}"}${range}))`);
          const p99 = await this.scalar(`histogram_quantile(0.99, sum by (le) (increase(maas_inference_compute_seconds_bucket{${selector}}${range})))`);
          return { requests, errors, errorRatio: requests ? errors / requests : 0, p99LatencySeconds: p99 };
        };
        const pairSelector = `model=${q(pair.model)},stable_version=${q(pair.stable)},candidate_version=${q(pair.candidate)}`;
        const agree = await this.scalar(`sum(increase(maas_gateway_mirror_predictions_total{${pairSelector},agreement="agree"}${range}))`);
        const disagree = await this.scalar(`sum(increase(maas_gateway_mirror_predictions_total{${pairSelector},agreement="disagree"}${range}))`);
        const differenceSum = await this.scalar(`sum(increase(maas_gateway_mirror_score_difference_sum{${pairSelector}}${range}))`);
        const differenceCount = await this.scalar(`sum(increase(maas_gateway_mirror_score_difference_count{${pairSelector}}${range}))`);
        const mirroredPredictions = agree + disagree;
        return {
          windowSeconds,
          stable: await version(pair.stable),
          candidate: await version(pair.candidate),
          mirroredPredictions,
          ...(mirroredPredictions > 0 ? { agreement: agree / mirroredPredictions } : {}),
          ...(differenceCount > 0 ? { scoreDifference: differenceSum / differenceCount } : {}),
        };
      },
    };
  }

  async readiness(model: string): Promise<Map<string, boolean>> {
    const rows = await this.query(`min by (version) (maas_gateway_routable_versions{model=${JSON.stringify(model)}})`);
    return new Map(rows.map((row) => [row.metric.version!, row.value === 1]));
  }
}

/**
 * Judges a window: Inconclusive while the candidate (or, while mirroring, the mirrored texts) has fewer than
 * minRequests; else Failed with every threshold it broke, or Passed.
 */
export function judgeWindow(
  figures: WindowFigures,
  thresholds: AnalysisThresholds,
  options: { mirroring: boolean },
): Pick<AnalysisRecord, 'result' | 'failures'> {
  const failures: string[] = [];
  const { stable, candidate } = figures;
  if (candidate.requests < thresholds.minRequests)
    return { result: 'Inconclusive', failures: [`candidate served ${candidate.requests} requests, fewer than minRequests ${thresholds.minRequests}`] };
  if (options.mirroring && figures.mirroredPredictions < thresholds.minRequests) {
    return { result: 'Inconclusive', failures: [`${figures.mirroredPredictions} mirrored predictions, fewer than minRequests ${thresholds.minRequests}`] };
  }
  const increase = candidate.errorRatio - stable.errorRatio;
  if (increase > thresholds.maxErrorRatioIncrease)
    failures.push(
      `error ratio ${round(candidate.errorRatio)} vs stable ${round(stable.errorRatio)}: +${round(increase)} > ${thresholds.maxErrorRatioIncrease}`,
    );
  if (stable.p99LatencySeconds > 0 && candidate.p99LatencySeconds / stable.p99LatencySeconds > thresholds.maxP99LatencyRatio) {
    failures.push(
      `p99 latency ${round(candidate.p99LatencySeconds)} s is ${round(candidate.p99LatencySeconds / stable.p99LatencySeconds)}x stable's ${round(stable.p99LatencySeconds)} s > ${thresholds.maxP99LatencyRatio}x`,
    );
  }
  if (figures.agreement !== undefined && figures.agreement < thresholds.minAgreement)
    failures.push(`label agreement ${round(figures.agreement)} < ${thresholds.minAgreement}`);
  if (figures.scoreDifference !== undefined && figures.scoreDifference > thresholds.maxScoreDifference)
    failures.push(`mean score difference ${round(figures.scoreDifference)} > ${thresholds.maxScoreDifference}`);
  return { result: failures.length ? 'Failed' : 'Passed', failures };
}

const round = (value: number) => Math.round(value * 10_000) / 10_000;
