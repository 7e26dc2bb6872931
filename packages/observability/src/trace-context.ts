import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type Tracer,
} from '@opentelemetry/api';

/**
 * A W3C trace context (www.w3.org/TR/trace-context) as the propagator writes it: `traceparent`, and
 * `tracestate` when there is one. Stored with an outbox row or a leased work row, and sent as AMQP
 * headers, so that a message or a worker's call continues the trace that created it.
 */
export type TraceCarrier = Record<string, string>;

/**
 * The context `from` (the active one by default) as a carrier to store or send; null when there is none
 * to carry (tracing is off, or no span is active).
 */
export function captureTraceContext(from: Context = context.active()): TraceCarrier | null {
  const carrier: TraceCarrier = {};
  propagation.inject(from, carrier);
  for (const _ in carrier) return carrier;
  return null;
}

/** The context a stored or received carrier describes; the empty root context for anything else. */
export function restoreTraceContext(carrier: unknown): Context {
  if (carrier === null || typeof carrier !== 'object') return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, carrier);
}

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/;

/** The 32-hex-digit trace id of a carrier's `traceparent`; null without one. */
export function traceIdOf(carrier: TraceCarrier | null | undefined): string | null {
  const match = carrier?.traceparent?.match(TRACEPARENT);
  return match?.[1] ?? null;
}

/**
 * Ends `span` once `work` settles, marking it failed (with the error recorded) if `work` throws.
 * @throws whatever `work` throws
 */
export async function endSpanAfter<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Marks `span` failed with `error` (recorded as an exception event). */
export function failSpan(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/**
 * Runs `work` on behalf of several traces at once (a group commit, a batch of events): each member is
 * the context of one request, event or call. One member: `work` runs in its context, so its spans (the
 * transaction's queries) belong to that trace. More: `work` runs in a span `name` of a trace of its own
 * that links to every member (OpenTelemetry's model for batches: a span has one parent, and a batch has
 * many). With tracing off there is nothing to link, and `work` simply runs.
 * @throws whatever `work` throws (the batch span is marked failed)
 */
export function inBatchSpan<T>(
  tracer: Tracer,
  name: string,
  members: readonly Context[],
  work: () => Promise<T>,
  attributes?: Attributes,
): Promise<T> {
  const links: Link[] = [];
  for (const member of members) {
    const spanContext = trace.getSpanContext(member);
    if (spanContext && trace.isSpanContextValid(spanContext)) links.push({ context: spanContext });
  }
  if (links.length === 0) return work();
  if (members.length === 1 && members[0]) return context.with(members[0], work);
  const span = tracer.startSpan(
    name,
    { links, attributes: { 'batch.size': members.length, ...attributes } },
    ROOT_CONTEXT,
  );
  return context.with(trace.setSpan(ROOT_CONTEXT, span), () => endSpanAfter(span, work));
}
