/** The attempt number of a delivery; absent on the first one. */
export const ATTEMPT_HEADER = 'x-attempt';
/** Why a delayed or dead-lettered message failed last. */
export const LAST_ERROR_HEADER = 'x-last-error';
/** When a message was moved to its dead-letter queue (ISO 8601). */
export const DEAD_LETTERED_AT_HEADER = 'x-dead-lettered-at';
/** When an operator discarded a dead letter into the archive (ISO 8601). */
export const DISCARDED_AT_HEADER = 'x-discarded-at';
/** The routing key a message was first published with (re-publishing to a queue replaces it). */
export const ORIGINAL_ROUTING_KEY_HEADER = 'x-original-routing-key';

/** rabbitmq-client decodes `application/json` bodies itself; anything else arrives as a Buffer. */
export function rawBody(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body;
  return Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
}

/**
 * The headers a re-published message keeps. RabbitMQ adds the death headers on every dead-lettering:
 * carried along, they would grow with each retry. CC/BCC routed the original publish; kept, they would
 * copy a retried event to those queues again.
 */
export function forwardableHeaders(headers: Record<string, unknown> | undefined): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(headers ?? {}).filter(
      ([name]) =>
        !name.startsWith('x-death') && !name.startsWith('x-first-death') && name !== 'CC' && name !== 'BCC',
    ),
  );
}
