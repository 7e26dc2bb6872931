import { trace, type SpanContext } from '@opentelemetry/api';
import { pino, type Logger } from 'pino';

export type { Logger };

/** Where a logger made by `withTraceIds` keeps the span its lines name (inherited by its children). */
const SPAN_CONTEXT = Symbol('span context');

type TracedLogger = Logger & { [SPAN_CONTEXT]?: SpanContext };

/**
 * A JSON logger whose lines carry the service name; correlation ids are added by child loggers. With
 * `traceIds` (tracing is on), every line also carries `trace_id` and `span_id`: those of the logger's own
 * span (`withTraceIds`), or else of the span active where the line is written.
 */
export function createLogger(options: { service: string; level: string; traceIds?: boolean }): Logger {
  return pino({
    level: options.level,
    base: { service: options.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    ...(options.traceIds === true && {
      // pino's documented way to add context per line from the logger itself (child loggers inherit the
      // property): a binding would appear twice when a line written in another span also carries one.
      mixin: (_line: object, _level: number, logger: TracedLogger) => {
        const span = logger[SPAN_CONTEXT] ?? trace.getActiveSpan()?.spanContext();
        if (!span || !trace.isSpanContextValid(span)) return {};
        return { trace_id: span.traceId, span_id: span.spanId };
      },
    }),
  });
}

/**
 * A child of `logger` whose lines name `span` (an event's or a work item's) wherever they are written,
 * even after the span ended or inside a batch's span. Returns `logger` itself when there is no span.
 */
export function withTraceIds(logger: Logger, span: SpanContext | undefined): Logger {
  if (!span || !trace.isSpanContextValid(span)) return logger;
  const child = logger.child({}) as TracedLogger;
  child[SPAN_CONTEXT] = span;
  return child;
}
