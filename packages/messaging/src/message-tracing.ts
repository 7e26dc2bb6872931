import { SpanKind, trace, type Context, type Span } from '@opentelemetry/api';
import type { AsyncMessage } from 'rabbitmq-client';
import { captureTraceContext, restoreTraceContext, type TraceCarrier } from '@platform/observability';
import type { OutgoingMessage } from './broker.js';

/**
 * Spans of publishing and consuming, made here because no OpenTelemetry instrumentation exists for
 * rabbitmq-client: the W3C trace context travels in the AMQP headers (`traceparent`, `tracestate`), as
 * the messaging semantic conventions describe (opentelemetry.io/docs/specs/semconv/messaging). The
 * attributes are the conventions' `messaging.*` names; the attempt is ours.
 */
export const messagingTracer = trace.getTracer('@platform/messaging');

/** The span of one publish and the headers that carry it, or nothing for a message without a trace. */
export interface PublishSpan {
  span: Span;
  headers: TraceCarrier;
}

/**
 * Starts the producer span of publishing a message that belongs to a trace (`traceContext`, stored with
 * its outbox row): a child of the context the row was written in, whose own context the message carries.
 */
export function startPublishSpan(message: OutgoingMessage, exchange: string): PublishSpan | undefined {
  if (!message.traceContext) return undefined;
  const parent = restoreTraceContext(message.traceContext);
  const span = messagingTracer.startSpan(
    `publish ${message.routingKey}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'rabbitmq',
        'messaging.operation.type': 'send',
        'messaging.destination.name': exchange,
        'messaging.rabbitmq.destination.routing_key': message.routingKey,
        'messaging.message.id': message.messageId,
        'messaging.message.conversation_id': message.correlationId,
      },
    },
    parent,
  );
  return { span, headers: captureTraceContext(trace.setSpan(parent, span)) ?? {} };
}

/**
 * Starts the consumer span of processing a delivery, a child of the publish its headers carry. A delayed
 * retry and a replayed dead letter keep the headers of the first publish, so every attempt is a child of
 * the same publish span, in its saga instance's trace, told apart by its attempt.
 */
export function startProcessSpan(
  message: AsyncMessage,
  routingKey: string,
  queue: string,
  attempt: number,
): { span: Span; context: Context } {
  const parent = restoreTraceContext(message.headers);
  const span = messagingTracer.startSpan(
    `process ${routingKey}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'rabbitmq',
        'messaging.operation.type': 'process',
        'messaging.destination.name': queue,
        'messaging.rabbitmq.destination.routing_key': routingKey,
        'messaging.message.id': message.messageId ?? '',
        'messaging.message.conversation_id': message.correlationId ?? '',
        'order_platform.attempt': attempt,
      },
    },
    parent,
  );
  return { span, context: trace.setSpan(parent, span) };
}
