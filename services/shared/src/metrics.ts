import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { trace, TraceFlags } from '@opentelemetry/api';
import * as client from 'prom-client';
import type { ServerConfig } from './config.js';

/** Latency buckets in seconds, from sub-millisecond hops to multi-second model loads. */
export const LATENCY_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Buckets for loading a model or tokenizer version (download, verify, sessions, warm-up), in seconds. The last
 * bucket is the inference startupProbe's whole budget (k8s/base/inference.yaml: 5 s × 120 = 600 s), so a load
 * that comes close to getting the pod killed still lands in a bucket of its own rather than in +Inf.
 */
export const MODEL_LOAD_BUCKETS_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 450, 600];

/**
 * The one label value for a model (or version) a client named that the service does not know, in every
 * service: labels carry only names the registry knows, so clients cannot blow up label cardinality.
 */
export const UNKNOWN_LABEL = '_unknown';

/**
 * The label every series of a service carries, naming the maas service. Not `service`: Prometheus Operator
 * writes its own `service` target label (the Kubernetes Service scraped), and the clash would rename ours to
 * `exported_service` on some targets and not others. `job` is not enough either: it names whatever the scrape
 * config calls the target, which differs between a laptop and a cluster.
 */
export const SERVICE_LABEL = 'maas_service';

/** The version of the maas release this code belongs to (every workspace shares it). */
function releaseVersion(): string {
  try {
    return String(JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

/**
 * A latency histogram whose observations carry the current trace as an OpenMetrics exemplar
 * (`# {trace_id="…",span_id="…"} value timestamp` on the bucket it fell in), so that a dashboard's p99 links to
 * a trace that is one. Only sampled spans are attached: an unsampled trace id leads nowhere. Call sites keep
 * the plain `observe(labels, seconds)`; reading the active span costs well under a microsecond.
 */
export function createLatencyHistogram<T extends string>(config: client.HistogramConfiguration<T>): client.Histogram<T> {
  // prom-client refuses exemplars for a metric registered in a Prometheus-text registry at construction, yet
  // renders such a registry fine (exemplars only in the OpenMetrics view): register after constructing.
  const histogram = new client.Histogram<T>({ buckets: LATENCY_BUCKETS_SECONDS, ...config, registers: [], enableExemplars: true });
  for (const registry of config.registers ?? [client.register]) registry.registerMetric(histogram);
  const observeWithExemplar = histogram.observe.bind(histogram) as (data: client.ObserveDataWithExemplar<T>) => void;
  histogram.observe = ((first: client.LabelValues<T> | number | client.ObserveDataWithExemplar<T>, second?: number) => {
    if (typeof first === 'object' && second === undefined && 'value' in first && typeof first.value === 'number') {
      observeWithExemplar(first as client.ObserveDataWithExemplar<T>); // startTimer's own form
      return;
    }
    const labels = (typeof first === 'number' ? {} : first) as client.LabelValues<T>;
    const value = typeof first === 'number' ? first : (second as number);
    const span = trace.getActiveSpan()?.spanContext();
    const sampled = span !== undefined && (span.traceFlags & TraceFlags.SAMPLED) !== 0;
    observeWithExemplar({ labels, value, exemplarLabels: sampled ? ({ trace_id: span.traceId, span_id: span.spanId } as client.LabelValues<T>) : undefined });
  }) as client.Histogram<T>['observe'];
  return histogram;
}

/** A service's Prometheus registry and the metrics every gRPC service has. */
export interface ServiceMetrics {
  readonly registry: client.Registry;
  /** maas_grpc_server_requests_total{method, code}: finished calls by status code name. */
  readonly requests: client.Counter<'method' | 'code'>;
  /** maas_grpc_server_request_duration_seconds{method}: handler time, end to end inside this service. */
  readonly requestDuration: client.Histogram<'method'>;
}

export function createServiceMetrics(options: {
  /** The maas service (gateway, tokenizer, inference, model-registry): the `maas_service` label of every series. */
  service: string;
  /** The release version for maas_build_info (default: the version of the maas workspaces). */
  version?: string;
}): ServiceMetrics {
  const registry = new client.Registry();
  setDefaultLabels(registry, { [SERVICE_LABEL]: options.service });
  client.collectDefaultMetrics({ register: registry });
  // The info-metric pattern: always 1; join on it (`* on (pod) group_left(version) maas_build_info`) to see
  // which release a series came from, e.g. during a rolling update of the services themselves.
  new client.Gauge({
    name: 'maas_build_info',
    help: 'Always 1; labels name the maas release and the runtime of this service',
    labelNames: ['version', 'node_version'],
    registers: [registry],
  }).set({ version: options.version ?? releaseVersion(), node_version: process.versions.node }, 1);
  return {
    registry,
    requests: new client.Counter({
      name: 'maas_grpc_server_requests_total',
      help: 'gRPC calls handled, by method and status code',
      labelNames: ['method', 'code'],
      registers: [registry],
    }),
    requestDuration: createLatencyHistogram({
      name: 'maas_grpc_server_request_duration_seconds',
      help: 'Time from a gRPC call reaching the handler to its answer',
      labelNames: ['method'],
      registers: [registry],
    }),
  };
}

/** A running /metrics endpoint. */
export interface MetricsServer {
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The registry's metrics in the OpenMetrics text format, exemplars included. prom-client renders OpenMetrics
 * only for a registry made for it, and its rendering renames a counter object in place (drops `_total`), which
 * would corrupt the same counter's next Prometheus-text scrape. So each scrape registers thin views of the
 * metrics (name without `_total` for counters, same values) in a fresh OpenMetrics registry.
 */
export async function openMetricsText(registry: client.Registry): Promise<string> {
  const openMetrics = new client.Registry<client.OpenMetricsContentType>();
  openMetrics.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE);
  openMetrics.setDefaultLabels(defaultLabelsOf.get(registry) ?? {});
  for (const metric of registry.getMetricsAsArray() as unknown as MetricObject[]) {
    const name = metric.type === 'counter' ? metric.name.replace(/_total$/, '') : metric.name;
    const read = async () => ({ ...(await (metric.getForPromString ? metric.getForPromString() : metric.get())), name });
    openMetrics.registerMetric({ name, type: metric.type, help: metric.help, get: read, getForPromString: read } as unknown as client.Metric);
  }
  return openMetrics.metrics();
}

/** What a prom-client metric object holds at run time (its typings hide `getForPromString`). */
interface MetricObject {
  name: string;
  type: string;
  help: string;
  get(): Promise<{ name: string }>;
  getForPromString?(): Promise<{ name: string }>;
}

/** Default labels per registry (prom-client has no getter), for the OpenMetrics view of the same registry. */
const defaultLabelsOf = new WeakMap<client.Registry, Record<string, string>>();

/** Sets a registry's default labels and remembers them for openMetricsText. */
export function setDefaultLabels(registry: client.Registry, labels: Record<string, string>): void {
  registry.setDefaultLabels(labels);
  defaultLabelsOf.set(registry, labels);
}

/** Whether a scraper's Accept header asks for OpenMetrics (Prometheus does by default; exemplars need it). */
export function acceptsOpenMetrics(accept: string | undefined): boolean {
  return /application\/openmetrics-text/i.test(accept ?? '');
}

/**
 * Serves GET /metrics: OpenMetrics (with exemplars) when the scraper's Accept header asks for it, as
 * Prometheus does, else the Prometheus text format (curl, older scrapers).
 */
export async function startMetricsServer(options: { registry: client.Registry; port: number; host?: string }): Promise<MetricsServer> {
  const server = http.createServer((request, response) => {
    if (request.method !== 'GET' || !request.url?.startsWith('/metrics')) {
      response.writeHead(404).end('not found\n');
      return;
    }
    const openMetrics = acceptsOpenMetrics(request.headers.accept);
    (openMetrics ? openMetricsText(options.registry) : options.registry.metrics()).then(
      (text) => response.writeHead(200, { 'content-type': openMetrics ? client.Registry.OPENMETRICS_CONTENT_TYPE : options.registry.contentType }).end(text),
      () => response.writeHead(500).end('metrics collection failed\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  server.unref();
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** /metrics as every service's server config asks for it: METRICS_PORT on METRICS_HOST; none when METRICS_PORT is -1. */
export function startConfiguredMetricsServer(options: {
  registry: client.Registry;
  config: Pick<ServerConfig, 'metricsPort' | 'metricsHost'>;
}): Promise<MetricsServer | undefined> {
  const { metricsPort, metricsHost } = options.config;
  return metricsPort < 0 ? Promise.resolve(undefined) : startMetricsServer({ registry: options.registry, port: metricsPort, host: metricsHost });
}
