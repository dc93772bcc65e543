import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'prom-client';
import type { ServerConfig } from './config.js';

/** Latency buckets in seconds, from sub-millisecond hops to multi-second model loads. */
export const LATENCY_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A service's Prometheus registry and the metrics every gRPC service has. */
export interface ServiceMetrics {
  readonly registry: client.Registry;
  /** maas_grpc_server_requests_total{method, code}: finished calls by status code name. */
  readonly requests: client.Counter<'method' | 'code'>;
  /** maas_grpc_server_request_duration_seconds{method}: handler time, end to end inside this service. */
  readonly requestDuration: client.Histogram<'method'>;
}

export function createServiceMetrics(options: { service: string }): ServiceMetrics {
  const registry = new client.Registry();
  registry.setDefaultLabels({ service: options.service });
  client.collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new client.Counter({
      name: 'maas_grpc_server_requests_total',
      help: 'gRPC calls handled, by method and status code',
      labelNames: ['method', 'code'],
      registers: [registry],
    }),
    requestDuration: new client.Histogram({
      name: 'maas_grpc_server_request_duration_seconds',
      help: 'Time from a gRPC call reaching the handler to its answer',
      labelNames: ['method'],
      buckets: LATENCY_BUCKETS_SECONDS,
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

/** Serves GET /metrics in the Prometheus text format. */
export async function startMetricsServer(options: { registry: client.Registry; port: number; host?: string }): Promise<MetricsServer> {
  const server = http.createServer((request, response) => {
    if (request.method !== 'GET' || !request.url?.startsWith('/metrics')) {
      response.writeHead(404).end('not found\n');
      return;
    }
    options.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
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

/** /metrics as every service's server config asks for it: METRICS_PORT on GRPC_HOST; none when METRICS_PORT is -1. */
export function startConfiguredMetricsServer(options: { registry: client.Registry; config: Pick<ServerConfig, 'metricsPort' | 'grpcHost'> }): Promise<MetricsServer | undefined> {
  const { metricsPort, grpcHost } = options.config;
  return metricsPort < 0 ? Promise.resolve(undefined) : startMetricsServer({ registry: options.registry, port: metricsPort, host: grpcHost });
}
