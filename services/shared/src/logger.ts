import { isSpanContextValid, trace, type Span } from '@opentelemetry/api';
import pino from 'pino';

export type Logger = pino.Logger;

/**
 * The trace fields of a log line written inside `span`: none outside a span, and none inside a span whose
 * context is not valid. With traces off (no exporter, the laptop default) the gRPC instrumentation still
 * opens non-recording spans whose ids are all zeros: such a trace_id names no trace and would only mislead.
 */
export function traceFields(span: Span | undefined): { trace_id?: string; span_id?: string } {
  const context = span?.spanContext();
  if (!context || !isSpanContextValid(context)) return {};
  return { trace_id: context.traceId, span_id: context.spanId };
}

/** JSON-lines logger; every line written inside a traced call carries its trace_id and span_id. */
export function createLogger(options: { service: string; level?: string }): Logger {
  return pino({
    level: options.level ?? 'info',
    base: { service: options.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: () => traceFields(trace.getActiveSpan()),
  });
}
