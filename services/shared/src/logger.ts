import { trace } from '@opentelemetry/api';
import pino from 'pino';

export type Logger = pino.Logger;

/** JSON-lines logger; every line written inside a traced call carries its trace_id and span_id. */
export function createLogger(options: { service: string; level?: string }): Logger {
  return pino({
    level: options.level ?? 'info',
    base: { service: options.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin() {
      const span = trace.getActiveSpan();
      if (!span) return {};
      const context = span.spanContext();
      return { trace_id: context.traceId, span_id: context.spanId };
    },
  });
}
