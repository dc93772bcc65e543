import type * as grpc from '@grpc/grpc-js';
import { type ClassifyRequest__Output, type ClassifyResponse, type EncodeResponse__Output, type ModelInferResponse__Output, type ModelManifest__Output } from '@maas/protos';
import { checkTextLimits, deadlineFromCall, failedPrecondition, invalidArgument, toStatusObject, unaryCall } from '@maas/shared';
import { context, SpanKind, SpanStatusCode, trace, type Context, type Link } from '@opentelemetry/api';
import type { Batch, Coalescer } from './coalescer.js';
import { callHop, noteInferenceFailure, type DownstreamClients } from './downstream.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import { labelRows, readFirstOutput, type LabelScore } from './postprocess.js';
import type { ReadinessTracker } from './readiness.js';
import type { RouteDecision } from './router.js';
import type { RoutingState } from './routing-state.js';
import { countRoute, modelLabel, recordTraffic } from './traffic-metrics.js';

/** The task Classify serves; a manifest naming another one is refused. */
export const CLASSIFY_TASK = 'text-classification';

/** What each queued Classify call carries to the batch executor. */
export interface ClassifyMeta {
  /** The routed version's manifest (versions are immutable, so any request's copy serves the batch). */
  manifest: ModelManifest__Output;
  /** The caller's trace context: the batch runs in the first one's and links to the others. */
  traceContext: Context;
}

export type ClassifyCoalescer = Coalescer<ClassifyMeta, LabelScore>;

export interface ClassifyLimits {
  /** Most texts per call. */
  maxBatchTexts: number;
  /** Longest text, in UTF-8 bytes. */
  maxTextBytes: number;
}

/** Checks a Classify request before it is queued, so that one caller's bad input never fails a merged batch. */
export function validateClassifyRequest(request: ClassifyRequest__Output, limits: ClassifyLimits): void {
  if (!request.model) throw invalidArgument('model is required');
  checkTextLimits(request.texts, { maxTexts: limits.maxBatchTexts, maxTextBytes: limits.maxTextBytes });
}

const tracer = trace.getTracer('maas-gateway');

export interface BatchExecutorOptions {
  clients: DownstreamClients;
  readiness: ReadinessTracker;
  metrics: GatewayMetrics;
}

/**
 * Runs one coalesced batch: one tokenizer Encode and one ModelInfer whose inputs are the encoded tensors as
 * they came (raw bytes, no re-encoding), then labels per text. It runs in the trace of the batch's first
 * request, inside a span that links to the others, so a lone request's trace reads
 * gateway → tokenizer → inference.
 */
export function createBatchExecutor(options: BatchExecutorOptions): (batch: Batch<ClassifyMeta>) => Promise<LabelScore[]> {
  const { clients, metrics, readiness } = options;

  const runBatch = async (batch: Batch<ClassifyMeta>): Promise<LabelScore[]> => {
    const { model, version, deadline } = batch;
    const manifest = batch.requests[0]!.meta.manifest;
    const encoded = await callHop('tokenizer', metrics, () =>
      unaryCall<Parameters<typeof clients.tokenizer.Encode>[0], EncodeResponse__Output>(
        (request, metadata, callOptions, callback) => clients.tokenizer.Encode(request, metadata, callOptions, callback),
        { model, version, texts: batch.texts },
        { deadline, signal: batch.signal },
      ),
    );
    const firstOutput = manifest.outputs[0]?.name;
    let inferred: ModelInferResponse__Output;
    try {
      inferred = await callHop('inference', metrics, () =>
        unaryCall<Parameters<typeof clients.inference.ModelInfer>[0], ModelInferResponse__Output>(
          (request, metadata, callOptions, callback) => clients.inference.ModelInfer(request, metadata, callOptions, callback),
          {
            model_name: model,
            model_version: version,
            inputs: encoded.tensors.map((tensor) => ({ name: tensor.name, datatype: tensor.datatype, shape: tensor.shape })),
            // Only the output Classify reads; empty would ask for all of them.
            outputs: firstOutput ? [{ name: firstOutput }] : [],
            raw_input_contents: encoded.tensors.map((tensor) => tensor.raw_contents),
          },
          { deadline, signal: batch.signal },
        ),
      );
    } catch (error) {
      noteInferenceFailure(readiness, { model, version }, error);
      throw error;
    }
    return labelRows(readFirstOutput(inferred, batch.texts.length), {
      labels: manifest.labels,
      activation: manifest.output_activation,
      model,
      version,
    });
  };

  return (batch) => {
    const first = batch.requests[0]!.meta.traceContext;
    return context.with(first, () => {
      // Links cost a little per request: only build them when this trace is recorded.
      const links: Link[] = [];
      if (trace.getSpan(first)?.isRecording()) {
        for (const request of batch.requests.slice(1)) {
          const spanContext = trace.getSpanContext(request.meta.traceContext);
          if (spanContext) links.push({ context: spanContext });
        }
      }
      return tracer.startActiveSpan(
        'maas.gateway.batch',
        {
          kind: SpanKind.INTERNAL,
          links,
          attributes: { 'maas.model': batch.model, 'maas.model_version': batch.version, 'maas.batch.texts': batch.texts.length, 'maas.batch.requests': batch.requests.length },
        },
        async (span) => {
          try {
            return await runBatch(batch);
          } catch (error) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: toStatusObject(error).details });
            throw error;
          } finally {
            span.end();
          }
        },
      );
    });
  };
}

export interface ClassifyHandlerOptions {
  limits: ClassifyLimits;
  /** Deadline passed downstream when the caller set none. */
  requestTimeoutMs: number;
  routing: RoutingState;
  coalescer: ClassifyCoalescer;
  metrics: GatewayMetrics;
  /** Told of every answered call, synchronously and before the caller is answered; must not throw (see mirror.ts). */
  onAnswered?: (answer: AnsweredClassify) => void;
}

/** A Classify call answered: what shadow traffic compares with. */
export interface AnsweredClassify {
  model: string;
  decision: RouteDecision;
  texts: readonly string[];
  results: readonly LabelScore[];
}

/** maas.v1.Gateway/Classify: validate, route, queue for a merged batch, answer per text with the version. */
export function createClassifyHandler(options: ClassifyHandlerOptions) {
  const { routing, coalescer, metrics } = options;
  return (request: ClassifyRequest__Output, call: grpc.ServerUnaryCall<ClassifyRequest__Output, ClassifyResponse>): Promise<ClassifyResponse> => {
    const model = modelLabel(routing, request.model);
    return recordTraffic({ metrics, method: 'Classify', model }, async () => {
      validateClassifyRequest(request, options.limits);
      const decision = routing.route(request.model, request.routing_key, request.version);
      countRoute(metrics, model, decision);
      if (decision.manifest.task && decision.manifest.task !== CLASSIFY_TASK) {
        throw failedPrecondition(`model ${request.model} version ${decision.version} serves task ${JSON.stringify(decision.manifest.task)}, not ${CLASSIFY_TASK}`);
      }
      const results = await coalescer.submit({
        model: request.model,
        version: decision.version,
        texts: request.texts,
        meta: { manifest: decision.manifest, traceContext: context.active() },
        deadline: deadlineFromCall(call, options.requestTimeoutMs),
        // Gone callers leave the queue at once; a batch all of whose callers are gone is cancelled downstream.
        caller: call,
      });
      options.onAnswered?.({ model: request.model, decision, texts: request.texts, results });
      return { predictions: results.map((result) => ({ label: result.label, score: result.score, model_version: decision.version })) };
    });
  };
}
