// The text-format parser and the analysis verdicts, on exposition text shaped like the services' /metrics.
import { bucketQuantile, judgeWindow, parseMetricsText, windowFromScrapes } from '@maas/rollout-controller';
import test from 'ava';

const DEFAULTS = { maxErrorRatioIncrease: 0.01, maxP99LatencyRatio: 2, minRequests: 10, minAgreement: 0.95, maxScoreDifference: 0.1, maxInconclusive: 3 };

test('parses samples with labels, escaped label values, special values and exemplars; skips comments', (t) => {
  const samples = parseMetricsText(
    [
      '# HELP maas_x a counter',
      '# TYPE maas_x counter',
      'maas_x{model="a\\"b",version="1",path="c:\\\\d\\nz"} 12 1700000000000',
      'maas_y 3.5',
      'maas_h_bucket{le="+Inf"} 7 # {trace_id="abc"} 0.2 1700000000.1',
      'maas_nan NaN',
      'garbage line without value',
    ].join('\n'),
  );
  t.deepEqual(samples.slice(0, 3), [
    { name: 'maas_x', labels: { model: 'a"b', version: '1', path: 'c:\\d\nz' }, value: 12 },
    { name: 'maas_y', labels: {}, value: 3.5 },
    { name: 'maas_h_bucket', labels: { le: '+Inf' }, value: 7 },
  ]);
  t.true(Number.isNaN(samples[3]!.value));
  t.is(samples.length, 4);
});

test('p99 interpolates within the bucket as histogram_quantile does', (t) => {
  const buckets = new Map([
    [0.001, 50],
    [0.01, 99],
    [0.1, 100],
    [Infinity, 100],
  ]);
  t.is(bucketQuantile(0.5, buckets), 0.001);
  t.true(Math.abs(bucketQuantile(0.99, buckets) - 0.01) < 1e-12);
  t.is(bucketQuantile(0.99, new Map()), 0);
});

function scrape(counts: { requests: Record<string, number>; errors?: Record<string, number>; agree?: number; disagree?: number }): string {
  const lines: string[] = [];
  for (const [version, total] of Object.entries(counts.requests)) {
    const errors = counts.errors?.[version] ?? 0;
    lines.push(`maas_inference_requests_total{model="m",version="${version}",code="OK",maas_service="inference"} ${total - errors}`);
    lines.push(`maas_inference_requests_total{model="m",version="${version}",code="UNAVAILABLE",maas_service="inference"} ${errors}`);
    lines.push(`maas_inference_requests_total{model="m",version="${version}",code="INVALID_ARGUMENT",maas_service="inference"} 1000`);
    lines.push(`maas_inference_compute_seconds_bucket{model="m",version="${version}",le="0.001"} ${total}`);
    lines.push(`maas_inference_compute_seconds_bucket{model="m",version="${version}",le="+Inf"} ${total}`);
  }
  lines.push(`maas_gateway_mirror_predictions_total{model="m",stable_version="1",candidate_version="2",agreement="agree"} ${counts.agree ?? 0}`);
  lines.push(`maas_gateway_mirror_predictions_total{model="m",stable_version="1",candidate_version="2",agreement="disagree"} ${counts.disagree ?? 0}`);
  return lines.join('\n');
}

const pair = { model: 'm', stable: '1', candidate: '2' };

test('a window is the delta of two scrapes: requests, server errors (not client errors), agreement', (t) => {
  const before = parseMetricsText(scrape({ requests: { '1': 100, '2': 10 }, errors: { '2': 1 }, agree: 5, disagree: 0 }));
  const after = parseMetricsText(scrape({ requests: { '1': 300, '2': 60 }, errors: { '2': 6 }, agree: 95, disagree: 10 }));
  const figures = windowFromScrapes(pair, before, after, 10);
  t.is(figures.stable.requests, 200);
  t.is(figures.candidate.requests, 50);
  t.is(figures.candidate.errors, 5);
  t.is(figures.candidate.errorRatio, 0.1);
  t.is(figures.mirroredPredictions, 100);
  t.is(figures.agreement, 0.9);
  t.deepEqual(judgeWindow(figures, DEFAULTS, { mirroring: true }).failures, ['error ratio 0.1 vs stable 0: +0.1 > 0.01', 'label agreement 0.9 < 0.95']);
});

test('too few candidate requests is inconclusive, not passed; enough healthy ones pass', (t) => {
  const quiet = windowFromScrapes(
    pair,
    parseMetricsText(scrape({ requests: { '1': 0, '2': 0 } })),
    parseMetricsText(scrape({ requests: { '1': 100, '2': 3 } })),
    5,
  );
  t.is(judgeWindow(quiet, DEFAULTS, { mirroring: false }).result, 'Inconclusive');
  const healthy = windowFromScrapes(
    pair,
    parseMetricsText(scrape({ requests: { '1': 0, '2': 0 } })),
    parseMetricsText(scrape({ requests: { '1': 100, '2': 30 }, agree: 30 })),
    5,
  );
  t.deepEqual(judgeWindow(healthy, DEFAULTS, { mirroring: true }), { result: 'Passed', failures: [] });
});

test('a slower candidate fails on the p99 ratio; a higher score difference fails too', (t) => {
  const figures = {
    windowSeconds: 10,
    stable: { requests: 100, errors: 0, errorRatio: 0, p99LatencySeconds: 0.01 },
    candidate: { requests: 100, errors: 0, errorRatio: 0, p99LatencySeconds: 0.05 },
    mirroredPredictions: 100,
    agreement: 1,
    scoreDifference: 0.3,
  };
  t.deepEqual(judgeWindow(figures, DEFAULTS, { mirroring: true }).failures, [
    "p99 latency 0.05 s is 5x stable's 0.01 s > 2x",
    'mean score difference 0.3 > 0.1',
  ]);
});
