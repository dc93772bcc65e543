/** The inference service's domain metrics (maas_inference_*), beside the shared gRPC ones. */
import { createLatencyHistogram, MODEL_LOAD_BUCKETS_SECONDS } from '@maas/shared';
import * as client from 'prom-client';
import type { BatcherObserver } from './batcher.js';

type VersionLabels = 'model' | 'version';

export interface InferenceMetrics {
  /** ModelInfer calls by model, version and status code name (model and version "_unknown", UNKNOWN_LABEL, when they did not resolve). */
  requests: client.Counter<VersionLabels | 'code'>;
  /** Time a request waited in its version's queue before its batch started. */
  queueWait: client.Histogram<VersionLabels>;
  /** session.run time of one batch. */
  compute: client.Histogram<VersionLabels>;
  /** Rows per batch. */
  batchRows: client.Histogram<VersionLabels>;
  /** Requests per batch (how many calls one session run served). */
  batchRequests: client.Histogram<VersionLabels>;
  /** Rows waiting per version. */
  queueDepth: client.Gauge<VersionLabels>;
  /** Requests dropped before running, by reason (deadline, cancelled). */
  dropped: client.Counter<VersionLabels | 'reason'>;
  /** Time to load a version: download (or cache check), sessions, warm-up. */
  modelLoad: client.Histogram<VersionLabels>;
  /** Load attempts by result (ok, error). */
  modelLoads: client.Counter<VersionLabels | 'result'>;
  /** 1 while a version is loaded and serving. */
  modelReady: client.Gauge<VersionLabels>;
  /** 1 while a loaded version no rollout references is kept for traffic that may still come (draining). */
  modelDraining: client.Gauge<VersionLabels>;
  /** Metrics hooks for one version's batcher. */
  observerFor(model: string, version: string): BatcherObserver;
}

const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

export function createInferenceMetrics(registry: client.Registry): InferenceMetrics {
  const registers = [registry];
  const labelNames = ['model', 'version'] as const;
  const metrics = {
    requests: new client.Counter({
      name: 'maas_inference_requests_total',
      help: 'ModelInfer calls by model, version and status code',
      labelNames: [...labelNames, 'code'],
      registers,
    }),
    queueWait: createLatencyHistogram({
      name: 'maas_inference_queue_wait_seconds',
      help: 'Time a request waited for its batch to start',
      labelNames,
      registers,
    }),
    compute: createLatencyHistogram({ name: 'maas_inference_compute_seconds', help: 'session.run time per batch', labelNames, registers }),
    batchRows: new client.Histogram({ name: 'maas_inference_batch_size_rows', help: 'Rows per batch run', labelNames, buckets: BATCH_BUCKETS, registers }),
    batchRequests: new client.Histogram({
      name: 'maas_inference_batch_size_requests',
      help: 'Requests served by one batch run',
      labelNames,
      buckets: BATCH_BUCKETS,
      registers,
    }),
    queueDepth: new client.Gauge({ name: 'maas_inference_queue_depth_rows', help: 'Rows waiting in a model version queue', labelNames, registers }),
    dropped: new client.Counter({
      name: 'maas_inference_dropped_requests_total',
      help: 'Queued requests dropped before running',
      labelNames: [...labelNames, 'reason'],
      registers,
    }),
    modelLoad: new client.Histogram({
      name: 'maas_inference_model_load_seconds',
      help: 'Time to load a model version (fetch, sessions, warm-up)',
      labelNames,
      buckets: MODEL_LOAD_BUCKETS_SECONDS,
      registers,
    }),
    modelLoads: new client.Counter({
      name: 'maas_inference_model_loads_total',
      help: 'Model version load attempts by result',
      labelNames: [...labelNames, 'result'],
      registers,
    }),
    modelReady: new client.Gauge({ name: 'maas_inference_model_ready', help: '1 while a model version is loaded and serving', labelNames, registers }),
    modelDraining: new client.Gauge({
      name: 'maas_inference_model_draining',
      help: "1 while a loaded model version no rollout references is kept until its model's new stable version is ready and drained",
      labelNames,
      registers,
    }),
  };
  return {
    ...metrics,
    observerFor(model, version) {
      const labels = { model, version };
      return {
        queueDepth: (rows) => metrics.queueDepth.set(labels, rows),
        queueWait: (seconds) => metrics.queueWait.observe(labels, seconds),
        batchRun: ({ rows, requests, computeSeconds }) => {
          metrics.batchRows.observe(labels, rows);
          metrics.batchRequests.observe(labels, requests);
          metrics.compute.observe(labels, computeSeconds);
        },
        dropped: (reason) => metrics.dropped.inc({ ...labels, reason }),
      };
    },
  };
}
