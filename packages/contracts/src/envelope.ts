import { randomUUID } from 'node:crypto';
import { Type, type Static } from 'typebox';

/**
 * The envelope every event on the exchange travels in (SPEC §3), as JSON Schema: the event's id (what
 * consumers de-duplicate on), its type (also its routing key), the producing service, when it was sent,
 * the order it is about (`correlation_id`) and the payload, whose schema depends on the type.
 */
export const EnvelopeSchema = Type.Object({
  id: Type.String({ minLength: 1, description: 'Unique event id: consumers de-duplicate on it' }),
  type: Type.String({ minLength: 1, description: 'The event name, also its routing key' }),
  producer: Type.String({ minLength: 1, description: 'The service that produced the event' }),
  sent_at: Type.String({ format: 'date-time' }),
  correlation_id: Type.String({ minLength: 1, description: 'The order the event is about' }),
  payload: Type.Object({}),
});

/** An envelope whose payload is `TPayload` (see `EnvelopeSchema`; `EventOf` gives each type's). */
export type EventEnvelope<TPayload = unknown> = Omit<Static<typeof EnvelopeSchema>, 'payload'> & {
  payload: TPayload;
};

/** Builds an envelope with a fresh event id, sent now. */
export function createEnvelope<TType extends string, TPayload>(args: {
  type: TType;
  producer: string;
  correlationId: string;
  payload: TPayload;
}): EventEnvelope<TPayload> & { type: TType } {
  return {
    id: randomUUID(),
    type: args.type,
    producer: args.producer,
    sent_at: new Date().toISOString(),
    correlation_id: args.correlationId,
    payload: args.payload,
  };
}
