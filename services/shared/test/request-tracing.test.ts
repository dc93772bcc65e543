// Batch spans: a child of the first recorded request, linked to every recorded request, each of which links
// back; nothing at all when no request is recorded (no exporter, or not sampled).
import * as grpc from '@grpc/grpc-js';
import { context, ROOT_CONTEXT, trace, TraceFlags, type Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import test from 'ava';
import { inBatchSpan, invalidArgument, recordFinishedSpan } from '../src/index.js';

const exporter = new InMemorySpanExporter();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
const tracer = trace.getTracer('test');

test.afterEach(() => exporter.reset());

/** Starts `count` request spans; returns their contexts and a function that ends them (so they are exported). */
function requests(count: number): { contexts: Context[]; end(): ReadableSpan[] } {
  const spans = Array.from({ length: count }, (_, index) => tracer.startSpan(`request ${index}`, {}, ROOT_CONTEXT));
  return {
    contexts: spans.map((span) => trace.setSpan(ROOT_CONTEXT, span)),
    end: () => {
      for (const span of spans) span.end();
      return exporter.getFinishedSpans().filter((span) => span.name.startsWith('request'));
    },
  };
}

test.serial('the batch span is a child of the first request, links to every request, and each request links back', async (t) => {
  const batch = requests(3);
  const inside = await inBatchSpan(
    {
      tracer,
      name: 'batch',
      requests: [...batch.contexts, undefined],
      attributes: () => ({ size: 3 }),
      annotateRequest: (span, index) => span.setAttribute('index', index),
    },
    async (span) => {
      recordFinishedSpan({ tracer, name: 'run', seconds: 0.002 });
      return { active: trace.getActiveSpan(), span };
    },
  );
  const requestSpans = batch.end();
  const [batchSpan] = exporter.getFinishedSpans().filter((span) => span.name === 'batch');
  const [run] = exporter.getFinishedSpans().filter((span) => span.name === 'run');
  t.is(inside.active, inside.span, 'the work runs with the batch span active');
  t.is(batchSpan!.parentSpanContext?.spanId, requestSpans[0]!.spanContext().spanId);
  t.is(batchSpan!.spanContext().traceId, requestSpans[0]!.spanContext().traceId);
  t.deepEqual(
    batchSpan!.links.map((link) => link.context.spanId),
    requestSpans.map((span) => span.spanContext().spanId),
  );
  for (const [index, span] of requestSpans.entries()) {
    t.deepEqual(
      span.links.map((link) => link.context.spanId),
      [batchSpan!.spanContext().spanId],
    );
    t.is(span.attributes.index, index);
  }
  t.is(run!.parentSpanContext?.spanId, batchSpan!.spanContext().spanId);
  const runMs = (run!.duration[0] * 1e9 + run!.duration[1]) / 1e6;
  t.true(Math.abs(runMs - 2) < 0.5, `the run span lasts what the worker measured (${runMs} ms)`);
});

test.serial('a failed batch records the gRPC status on its span and rethrows', async (t) => {
  const batch = requests(1);
  await t.throwsAsync(
    inBatchSpan({ tracer, name: 'batch', requests: batch.contexts }, async () => Promise.reject(invalidArgument('texts[3] is too long'))),
    { message: 'texts[3] is too long' },
  );
  batch.end();
  const [batchSpan] = exporter.getFinishedSpans().filter((span) => span.name === 'batch');
  t.deepEqual(batchSpan!.status, { code: 2, message: 'texts[3] is too long' });
  t.like(batchSpan!.attributes, { 'rpc.grpc.status_code': grpc.status.INVALID_ARGUMENT, 'error.type': 'INVALID_ARGUMENT' });
});

test.serial('no recorded request: no span, no link, the work runs bare', async (t) => {
  // What the services see with no SDK (no span in the context) or an unsampled caller (a non-recording span).
  const unsampled = trace.wrapSpanContext({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.NONE });
  let annotated = 0;
  const span = await inBatchSpan(
    { tracer, name: 'batch', requests: [ROOT_CONTEXT, trace.setSpan(ROOT_CONTEXT, unsampled), undefined], annotateRequest: () => (annotated += 1) },
    async (active) => active,
  );
  t.is(span, undefined);
  t.is(annotated, 0);
  t.deepEqual(exporter.getFinishedSpans(), []);
});
