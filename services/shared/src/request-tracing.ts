/**
 * Spans that tell each request's own story across merged batches. A request's server span (the gRPC
 * instrumentation's `maas.v1.Gateway/Classify`, `inference.GRPCInferenceService/ModelInfer`, ...) gets what
 * this request was (model, version, route, texts, tokens, queue wait); the span of work shared by several
 * requests (a coalesced batch, an ONNX Runtime run) is a child of the first recorded request and links to every
 * request it served, and every request's span links back to it, so from any request's trace a tracing UI
 * reaches the hops that served it (OpenTelemetry's batch pattern: links, not parents, for the others).
 *
 * Cost: everything here first asks whether a span is recording. With no exporter the preload starts no SDK, the
 * API stays the no-op one, and each call is a map lookup that finds no span: no attributes are built, no link
 * is made, no span is started.
 */
import * as grpc from '@grpc/grpc-js';
import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span, type Tracer } from '@opentelemetry/api';
import { toStatusObject } from './errors.js';

/** Attribute names maas puts on its spans (beside the semantic conventions' rpc.*, messaging.*, error.type). */
export const SPAN_ATTRIBUTES = {
  /** Model name as the caller asked for it. */
  model: 'maas.model',
  /** The version that answered. */
  modelVersion: 'maas.model_version',
  /** How the gateway chose the version: see RequestRoute. */
  route: 'maas.route',
  /** Texts in this request (Classify, Encode). */
  texts: 'maas.texts',
  /** Tokens of this request's texts after truncation, before padding. */
  tokens: 'maas.tokens',
  /** Texts cut to the tokenizer's maximum length. */
  truncatedTexts: 'maas.texts_truncated',
  /** Kind of tokenizer that encoded (keras, huggingface, ...). */
  tokenizerKind: 'maas.tokenizer.kind',
  /** Rows (dim 0) of this request's tensors (ModelInfer). */
  rows: 'maas.rows',
  /** Milliseconds this request waited in a queue before its batch started. */
  queueWaitMs: 'maas.queue_wait_ms',
  /** Requests merged into the batch (on the batch span, and on each request that went in it). */
  batchRequests: 'maas.batch.requests',
  /** Texts of the batch (gateway). */
  batchTexts: 'maas.batch.texts',
  /** Rows of the batch (inference). */
  batchRows: 'maas.batch.rows',
} as const;

/**
 * Which version answers and why, on the request's server span as `maas.route` (the collector's tail sampling
 * keeps a larger share of `canary`): `stable` and `canary` as the rollout drew them; `fallback` when the drawn
 * version was not ready and another one answered; `pinned` when the caller named the version; `mirror` for a
 * copy of a request sent to a version under test, whose answer nobody receives.
 */
export type RequestRoute = 'stable' | 'canary' | 'fallback' | 'pinned' | 'mirror';

/** A request's trace context (OpenTelemetry's Context), for services that do not import the API themselves. */
export type TraceContext = Context;

/** The active trace context: a request's, inside its handler. */
export function activeTraceContext(): TraceContext {
  return context.active();
}

/** The tracer a service's own spans come from (a no-op one when the preload started no SDK). */
export function serviceTracer(name: string): Tracer {
  return trace.getTracer(name);
}

/** The span of `ctx` (default: the active one) when it is being recorded; undefined when nothing would be kept. */
export function recordingSpan(ctx: Context = context.active()): Span | undefined {
  const span = trace.getSpan(ctx);
  return span?.isRecording() ? span : undefined;
}

/**
 * Sets attributes on the active span (the request's server span inside a handler) when it is recorded. Takes a
 * function so that nothing is built when it is not.
 */
export function annotateActiveSpan(attributes: () => Attributes): void {
  recordingSpan()?.setAttributes(attributes());
}

/** Marks a span failed with the error's gRPC status: status ERROR with the details, the code as attributes. */
export function recordSpanError(span: Span, error: unknown): void {
  const status = toStatusObject(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: status.details });
  span.setAttributes({ 'rpc.grpc.status_code': status.code, 'error.type': grpc.status[status.code] ?? String(status.code) });
}

export interface BatchSpanOptions {
  tracer: Tracer;
  name: string;
  /** The trace context of each request the batch serves (undefined: a request that carries none). */
  requests: ReadonlyArray<Context | undefined>;
  /** The batch span's attributes; only asked for when the span is recorded. */
  attributes?: () => Attributes;
  /**
   * Called for each recorded request's span with its index in `requests`, once the batch span exists: for
   * what only the batch knows about each request (its queue wait, the batch it went in).
   */
  annotateRequest?: (span: Span, index: number) => void;
}

/**
 * Runs `work` inside a span for work several requests share, when any of them is recorded (else runs it bare).
 * The span is a child of the first recorded request (so a lone request's trace reads as a plain tree), links
 * to every recorded request, and each of them links back to it; it ends when `work` settles, failed with the
 * gRPC status when `work` throws.
 */
export async function inBatchSpan<T>(options: BatchSpanOptions, work: (span: Span | undefined) => Promise<T>): Promise<T> {
  const recorded: Array<{ span: Span; index: number }> = [];
  options.requests.forEach((requestContext, index) => {
    const span = requestContext && recordingSpan(requestContext);
    if (span) recorded.push({ span, index });
  });
  if (recorded.length === 0) return work(undefined);

  const links: Link[] = recorded.map(({ span }) => ({ context: span.spanContext() }));
  const parent = trace.setSpan(context.active(), recorded[0]!.span);
  const batchSpan = options.tracer.startSpan(options.name, { kind: SpanKind.INTERNAL, links, attributes: options.attributes?.() }, parent);
  const backLink: Link = { context: batchSpan.spanContext() };
  for (const { span, index } of recorded) {
    span.addLink(backLink);
    options.annotateRequest?.(span, index);
  }
  try {
    return await context.with(trace.setSpan(parent, batchSpan), () => work(batchSpan));
  } catch (error) {
    recordSpanError(batchSpan, error);
    throw error;
  } finally {
    batchSpan.end();
  }
}

/**
 * Records a span for work that ran elsewhere (a worker thread, which has no tracer) and took `seconds`, ending
 * now, as a child of the active span when that one is recorded.
 */
export function recordFinishedSpan(options: { tracer: Tracer; name: string; seconds: number; attributes?: () => Attributes }): void {
  if (!recordingSpan()) return;
  const endTime = performance.timeOrigin + performance.now();
  options.tracer
    .startSpan(options.name, { kind: SpanKind.INTERNAL, startTime: endTime - options.seconds * 1000, attributes: options.attributes?.() })
    .end(endTime);
}
