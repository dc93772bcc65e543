import test from 'ava';
import { INVALID_SPAN_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import { traceFields } from '../src/logger.js';

test('log lines carry the trace and span ids of a valid span only', (t) => {
  const valid = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED };
  t.deepEqual(traceFields(trace.wrapSpanContext(valid)), { trace_id: valid.traceId, span_id: valid.spanId });
  // Traces off: the instrumentation's non-recording spans have all-zero ids, which name no trace.
  t.deepEqual(traceFields(trace.wrapSpanContext(INVALID_SPAN_CONTEXT)), {});
  t.deepEqual(traceFields(undefined), {});
});
