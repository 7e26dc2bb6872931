import { Type } from 'typebox';
import { EnvelopeSchema } from './envelope.js';
import { EVENT_PAYLOADS, type EventType } from './events.js';
import { CC_ROUTING_KEYS, SUBSCRIPTIONS, type ConsumingService } from './subscriptions.js';

/** Where the document says the broker is, and the exchange's name (SPEC §2: `orders`, a topic exchange). */
export interface AsyncApiOptions {
  /** `host:port` of RabbitMQ. */
  host?: string;
  exchange?: string;
  /** The document's own version (of the contracts, not of AsyncAPI). */
  version?: string;
}

/**
 * The contracts as an AsyncAPI 3.0 document (the ecosystem's convention for publishing message contracts):
 * one channel per event type (its routing key on the topic exchange), one message per type whose payload
 * is the envelope with that type's payload schema, a `send` operation for the producer and a `receive`
 * operation for each subscriber (`SUBSCRIPTIONS`). Generated from the same schemas consumers validate
 * with, so it cannot drift from them; `docs/asyncapi.json` is this document (a test checks both).
 */
export function asyncApiDocument(options: AsyncApiOptions = {}): Record<string, unknown> {
  const exchange = options.exchange ?? 'orders';
  const types = Object.keys(EVENT_PAYLOADS) as EventType[];
  const channels: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  for (const type of types) {
    const also = CC_ROUTING_KEYS[type];
    channels[type] = {
      address: type,
      description:
        `Events of type ${type}, routed by that key on the ${exchange} topic exchange` +
        (also ? `; also delivered under ${also.join(', ')} (CC header)` : ''),
      messages: { [type]: { $ref: `#/components/messages/${type}` } },
      bindings: {
        amqp: {
          is: 'routingKey',
          exchange: { name: exchange, type: 'topic', durable: true, autoDelete: false, vhost: '/' },
          bindingVersion: '0.3.0',
        },
      },
    };
    const schema = EVENT_PAYLOADS[type];
    messages[type] = {
      name: type,
      title: type,
      summary: (schema as { description?: string }).description,
      contentType: 'application/json',
      payload: toJsonSchema(
        Type.Object({
          ...EnvelopeSchema.properties,
          type: Type.Literal(type),
          payload: schema,
        }),
      ),
    };
    const producer = type.split('.')[0] ?? type;
    operations[`${producer}.send.${type}`] = {
      action: 'send',
      summary: `${producer} publishes ${type} from its outbox, after the transaction that decided it`,
      channel: { $ref: `#/channels/${type}` },
      messages: [{ $ref: `#/channels/${type}/messages/${type}` }],
      // Persistent messages, confirmed by the broker before the outbox row is deleted.
      bindings: { amqp: { deliveryMode: 2, ack: true, bindingVersion: '0.3.0' } },
    };
  }
  for (const [service, subscribed] of Object.entries(SUBSCRIPTIONS) as [
    ConsumingService,
    readonly EventType[],
  ][]) {
    for (const type of subscribed) {
      operations[`${service}.receive.${type}`] = {
        action: 'receive',
        summary: `${service} consumes ${type} from its queue ${exchange}.${service} (validated, then deduplicated by id)`,
        channel: { $ref: `#/channels/${type}` },
        messages: [{ $ref: `#/channels/${type}/messages/${type}` }],
      };
    }
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Order platform events',
      version: options.version ?? '1.0.0',
      description:
        'The events the services exchange through RabbitMQ (SPEC §2, §3). Every event is a JSON envelope ' +
        '(id, type, producer, sent_at, correlation_id = the order id, payload); consumers check it against ' +
        'these schemas and dead-letter one that fails, with the reasons in its x-last-error header.',
    },
    defaultContentType: 'application/json',
    servers: {
      rabbitmq: {
        host: options.host ?? 'localhost:5672',
        protocol: 'amqp',
        protocolVersion: '0.9.1',
        description: 'RabbitMQ; every service declares the exchange, its queues and their bindings',
      },
    },
    channels,
    operations,
    components: { messages },
  };
}

/** A TypeBox schema as plain JSON Schema (TypeBox keeps its own markers in symbol keys, which JSON drops). */
function toJsonSchema(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema)) as unknown;
}
