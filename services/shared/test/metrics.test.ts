// /metrics: OpenMetrics with trace exemplars for a scraper that asks for it, the Prometheus text format otherwise.
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import test from 'ava';
import { createServiceMetrics, startMetricsServer } from '../src/index.js';

const OPENMETRICS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

test('latency observations carry the sampled trace as an exemplar, in OpenMetrics only; counters keep _total in both formats', async (t) => {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(new BasicTracerProvider());
  t.teardown(() => {
    trace.disable();
    context.disable();
  });
  const metrics = createServiceMetrics({ service: 'test' });
  const traceId = await trace.getTracer('test').startActiveSpan('call', async (span) => {
    metrics.requestDuration.observe({ method: 'Classify' }, 0.003);
    span.end();
    return span.spanContext().traceId;
  });
  metrics.requestDuration.observe({ method: 'Classify' }, 0.02); // no active span: no exemplar
  metrics.requests.inc({ method: 'Classify', code: 'OK' });
  const server = await startMetricsServer({ registry: metrics.registry, port: 0, host: '127.0.0.1' });
  t.teardown(() => server.close());
  const scrape = async (accept?: string) => {
    const response = await fetch(`http://127.0.0.1:${server.port}/metrics`, { headers: accept ? { accept } : {} });
    return { type: response.headers.get('content-type') ?? '', text: await response.text() };
  };

  // Twice each, interleaved: rendering one format must not change the other.
  for (let round = 0; round < 2; round += 1) {
    const openMetrics = await scrape(OPENMETRICS_ACCEPT);
    t.regex(openMetrics.type, /^application\/openmetrics-text/);
    t.true(openMetrics.text.endsWith('# EOF\n'));
    t.regex(
      openMetrics.text,
      new RegExp(
        `maas_grpc_server_request_duration_seconds_bucket\\{le="0.005",maas_service="test",method="Classify"\\} 1 # \\{trace_id="${traceId}",span_id="[0-9a-f]{16}"\\} 0.003 \\d+(\\.\\d+)?\\n`,
      ),
    );
    t.notRegex(openMetrics.text, /le="0.025"[^\n]*#/);
    t.regex(
      openMetrics.text,
      /# TYPE maas_grpc_server_requests counter\nmaas_grpc_server_requests_total\{method="Classify",code="OK",maas_service="test"\} 1\n/,
    );
    t.regex(openMetrics.text, /maas_build_info\{version="\d+\.\d+\.\d+[^"]*",node_version="[^"]+",maas_service="test"\} 1/);

    const plain = await scrape();
    t.regex(plain.type, /^text\/plain; version=0.0.4/);
    t.notRegex(plain.text, /trace_id/);
    t.regex(
      plain.text,
      /# TYPE maas_grpc_server_requests_total counter\nmaas_grpc_server_requests_total\{method="Classify",code="OK",maas_service="test"\} 1\n/,
    );
  }
});
