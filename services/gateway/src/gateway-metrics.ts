import { createLatencyHistogram, UNKNOWN_LABEL, type ServiceMetrics } from '@maas/shared';
import * as client from 'prom-client';
import type { RoutableVersion } from './routing-state.js';

/** Texts (or requests) per merged batch: 1 to the coalescing limit. */
const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

/** The gateway's domain metrics (the per-method gRPC metrics come from @maas/shared). */
export interface GatewayMetrics {
  /** maas_gateway_requests_total{method, model, code}: Classify / ModelInfer outcomes per model. */
  requests: client.Counter<'method' | 'model' | 'code'>;
  /** maas_gateway_request_duration_seconds{method, model}: end to end, validation to answer. */
  requestDuration: client.Histogram<'method' | 'model'>;
  /** maas_gateway_routed_total{model, version, target}: requests routed to each version (target stable, canary or draining). */
  routed: client.Counter<'model' | 'version' | 'target'>;
  /** maas_gateway_route_fallbacks_total{model, version}: the drawn version was not ready; `version` answered instead. */
  routeFallbacks: client.Counter<'model' | 'version'>;
  /** maas_gateway_batch_size_texts{model, version}: texts per coalesced batch. */
  batchTexts: client.Histogram<'model' | 'version'>;
  /** maas_gateway_batch_size_requests{model, version}: Classify calls per coalesced batch. */
  batchRequests: client.Histogram<'model' | 'version'>;
  /** maas_gateway_queue_wait_seconds{model, version}: time a Classify call waited to be sent downstream. */
  queueWait: client.Histogram<'model' | 'version'>;
  /** maas_gateway_downstream_duration_seconds{hop}: one tokenizer Encode or one ModelInfer, per batch. */
  downstreamDuration: client.Histogram<'hop'>;
}

/** Model label for metrics: only models the registry knows, so clients cannot blow up label cardinality. */
export const UNKNOWN_MODEL_LABEL = UNKNOWN_LABEL;

export function createGatewayMetrics(options: {
  metrics: ServiceMetrics;
  /** Texts waiting per (model, version), read at scrape time. */
  queueDepths: () => Array<{ model: string; version: string; texts: number }>;
  /** The versions the gateway may route to, by role, read at scrape time. */
  routableVersions: () => RoutableVersion[];
}): GatewayMetrics {
  const registers = [options.metrics.registry];
  new client.Gauge({
    name: 'maas_gateway_queue_depth_texts',
    help: 'Texts waiting in the coalescing queue of each (model, version)',
    labelNames: ['model', 'version'],
    registers,
    collect() {
      this.reset();
      for (const depth of options.queueDepths()) this.set({ model: depth.model, version: depth.version }, depth.texts);
    },
  });
  new client.Gauge({
    name: 'maas_gateway_routable_versions',
    help: 'Versions the gateway may route to, by role (stable, canary, or draining: an earlier stable still taking the stable share while the new one is not ready); 1 when ready, 0 while not',
    labelNames: ['model', 'version', 'role'],
    registers,
    collect() {
      this.reset();
      for (const entry of options.routableVersions()) this.set({ model: entry.model, version: entry.version, role: entry.role }, entry.ready ? 1 : 0);
    },
  });
  return {
    requests: new client.Counter({
      name: 'maas_gateway_requests_total',
      help: 'Classify and ModelInfer calls by model and status code',
      labelNames: ['method', 'model', 'code'],
      registers,
    }),
    requestDuration: createLatencyHistogram({
      name: 'maas_gateway_request_duration_seconds',
      help: 'End-to-end duration of Classify and ModelInfer calls at the gateway',
      labelNames: ['method', 'model'],
      registers,
    }),
    routed: new client.Counter({
      name: 'maas_gateway_routed_total',
      help: 'Requests routed to each model version',
      labelNames: ['model', 'version', 'target'],
      registers,
    }),
    routeFallbacks: new client.Counter({
      name: 'maas_gateway_route_fallbacks_total',
      help: 'Requests whose drawn version was not ready, by the version that answered instead',
      labelNames: ['model', 'version'],
      registers,
    }),
    batchTexts: new client.Histogram({
      name: 'maas_gateway_batch_size_texts',
      help: 'Texts per coalesced batch (one tokenizer call and one ModelInfer)',
      labelNames: ['model', 'version'],
      buckets: BATCH_SIZE_BUCKETS,
      registers,
    }),
    batchRequests: new client.Histogram({
      name: 'maas_gateway_batch_size_requests',
      help: 'Classify calls per coalesced batch',
      labelNames: ['model', 'version'],
      buckets: BATCH_SIZE_BUCKETS,
      registers,
    }),
    queueWait: createLatencyHistogram({
      name: 'maas_gateway_queue_wait_seconds',
      help: 'Time a Classify call waited in the coalescing queue',
      labelNames: ['model', 'version'],
      registers,
    }),
    downstreamDuration: createLatencyHistogram({
      name: 'maas_gateway_downstream_duration_seconds',
      help: 'Duration of one downstream call per batch',
      labelNames: ['hop'],
      registers,
    }),
  };
}
