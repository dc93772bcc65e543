import type * as grpc from '@grpc/grpc-js';
import {
  type ClassifyRequest__Output,
  type ClassifyResponse,
  type EncodeResponse__Output,
  type ModelInferResponse__Output,
  type ModelManifest__Output,
} from '@maas/protos';
import { checkTextLimits, deadlineFromCall, failedPrecondition, inBatchSpan, invalidArgument, recordingSpan, SPAN_ATTRIBUTES, unaryCall } from '@maas/shared';
import { context, trace, type Context } from '@opentelemetry/api';
import type { Batch, Coalescer } from './coalescer.js';
import { callHop, noteInferenceFailure, type DownstreamClients } from './downstream.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import { labelRows, readFirstOutput, type LabelScore } from './postprocess.js';
import type { ReadinessTracker } from './readiness.js';
import { annotateRoute, routeOf } from './request-spans.js';
import type { RouteDecision } from './router.js';
import type { RoutingState } from './routing-state.js';
import { countRoute, modelLabel, recordTraffic } from './traffic-metrics.js';

/** The task Classify serves; a manifest naming another one is refused. */
export const CLASSIFY_TASK = 'text-classification';

/** What each queued Classify call carries to the batch executor. */
export interface ClassifyMeta {
  /** The routed version's manifest (versions are immutable, so any request's copy serves the batch). */
  manifest: ModelManifest__Output;
  /** The caller's trace context: the batch span is a child of the first recorded one and links to each. */
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

/** The coalesced batch's span: its children are the tokenizer Encode and inference ModelInfer client calls. */
export const GATEWAY_BATCH_SPAN = 'maas.gateway.batch';

export interface BatchExecutorOptions {
  clients: DownstreamClients;
  readiness: ReadinessTracker;
  metrics: GatewayMetrics;
}

/**
 * Runs one coalesced batch: one tokenizer Encode and one ModelInfer whose inputs are the encoded tensors as
 * they came (raw bytes, no re-encoding), then labels per text. It runs inside the batch span (a child of the
 * first recorded request, so a lone request's trace reads gateway → tokenizer → inference), which links to
 * every request it served; each request's span links back to it and gets its queue wait and token count.
 */
export function createBatchExecutor(options: BatchExecutorOptions): (batch: Batch<ClassifyMeta>) => Promise<LabelScore[]> {
  const { clients, metrics, readiness } = options;

  const runBatch = async (batch: Batch<ClassifyMeta>): Promise<LabelScore[]> => {
    const { model, version, deadline } = batch;
    const manifest = batch.requests[0]!.meta.manifest;
    const encoded = await callHop('tokenizer', metrics, () =>
      unaryCall<Parameters<typeof clients.tokenizer.Encode>[0], EncodeResponse__Output>(
        (request, metadata, callOptions, callback) => clients.tokenizer.Encode(request, metadata, callOptions, callback),
        // Narrow ids (UINT16 rather than INT64 for most vocabularies): a quarter of the bytes on both hops;
        // inference widens them exactly, so the tensors are forwarded as they come.
        { model, version, texts: batch.texts, narrow_integers: true },
        { deadline, signal: batch.signal },
      ),
    );
    annotateTokens(batch, encoded.token_counts);
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
    const startedAt = performance.now();
    return inBatchSpan(
      {
        tracer,
        name: GATEWAY_BATCH_SPAN,
        requests: batch.requests.map((request) => request.meta.traceContext),
        attributes: () => ({
          [SPAN_ATTRIBUTES.model]: batch.model,
          [SPAN_ATTRIBUTES.modelVersion]: batch.version,
          [SPAN_ATTRIBUTES.batchTexts]: batch.texts.length,
          [SPAN_ATTRIBUTES.batchRequests]: batch.requests.length,
        }),
        annotateRequest: (span, index) =>
          span.setAttributes({
            [SPAN_ATTRIBUTES.queueWaitMs]: startedAt - batch.requests[index]!.enqueuedAt,
            [SPAN_ATTRIBUTES.batchTexts]: batch.texts.length,
            [SPAN_ATTRIBUTES.batchRequests]: batch.requests.length,
          }),
      },
      () => runBatch(batch),
    );
  };
}

/** Sets `maas.tokens` on each recorded request of a batch: the tokens of its own texts. */
function annotateTokens(batch: Batch<ClassifyMeta>, tokenCounts: readonly number[]): void {
  let offset = 0;
  for (const request of batch.requests) {
    const span = recordingSpan(request.meta.traceContext);
    if (span) {
      let tokens = 0;
      for (let index = offset; index < offset + request.texts.length; index++) tokens += tokenCounts[index] ?? 0;
      span.setAttribute(SPAN_ATTRIBUTES.tokens, tokens);
    }
    offset += request.texts.length;
  }
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
      annotateRoute({ model: request.model, version: decision.version, route: routeOf(decision), texts: request.texts.length });
      if (decision.manifest.task && decision.manifest.task !== CLASSIFY_TASK) {
        throw failedPrecondition(
          `model ${request.model} version ${decision.version} serves task ${JSON.stringify(decision.manifest.task)}, not ${CLASSIFY_TASK}`,
        );
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
