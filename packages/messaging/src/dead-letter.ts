import type { SyncMessage } from 'rabbitmq-client';
import {
  ATTEMPT_HEADER,
  DEAD_LETTERED_AT_HEADER,
  DISCARDED_AT_HEADER,
  LAST_ERROR_HEADER,
  ORIGINAL_ROUTING_KEY_HEADER,
  rawBody,
} from './message-headers.js';

/** A message in a service's dead-letter queue (or its archive), as an operator needs to see it. */
export interface DeadLetter {
  messageId: string | undefined;
  correlationId: string | undefined;
  /** The event's routing key when it was first published. */
  routingKey: string;
  attempts: number | undefined;
  lastError: string | undefined;
  /** When it was dead-lettered (ISO 8601); absent for letters from before that was recorded. */
  deadLetteredAt: string | undefined;
  /** When an operator discarded it (archived letters only). */
  discardedAt: string | undefined;
  /** Every AMQP header it carries (trace context, attempt, error, …). */
  headers: Record<string, unknown>;
  body: string;
}

/** Which letters an operation takes: all of them, or those whose message id is listed. */
export type LetterSelection = 'all' | readonly string[];

/** A fetched letter as `DeadLetter` shows it: its headers read, its body as text. */
export function toDeadLetter(message: SyncMessage): DeadLetter {
  const headers = message.headers ?? {};
  const attempts = Number(headers[ATTEMPT_HEADER]);
  const text = (name: string): string | undefined => {
    const value: unknown = headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  return {
    messageId: message.messageId,
    correlationId: message.correlationId,
    routingKey: text(ORIGINAL_ROUTING_KEY_HEADER) ?? message.routingKey,
    attempts: Number.isFinite(attempts) ? attempts : undefined,
    lastError: text(LAST_ERROR_HEADER),
    deadLetteredAt: text(DEAD_LETTERED_AT_HEADER),
    discardedAt: text(DISCARDED_AT_HEADER),
    headers,
    body: rawBody(message.body).toString('utf8'),
  };
}
