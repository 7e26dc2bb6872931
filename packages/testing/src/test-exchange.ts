import { randomBytes } from 'node:crypto';
import { Connection, type AsyncMessage } from 'rabbitmq-client';
import { SUBSCRIPTIONS } from '@platform/contracts';
import { brokerAddresses, deleteTopology } from '@platform/messaging';
import { TEST_AUTH_SECRET } from './test-tokens.js';

/** A message a test queue received. */
export interface CapturedMessage {
  routingKey: string;
  messageId: string | undefined;
  headers: Record<string, unknown> | undefined;
  body: unknown;
}

/** A topic exchange of a test's own, with queues that record what reaches them. */
export interface TestExchange {
  name: string;
  /** Binds a new exclusive queue with these routing keys and records every message it receives. */
  capture(bindingKeys: string[]): Promise<CapturedMessage[]>;
  /** Publishes a JSON body (confirmed, persistent), as a service's outbox relay would. */
  publish(routingKey: string, body: unknown, options?: { messageId?: string }): Promise<void>;
  /** Deletes the exchange, the test's queues and every service queue declared on this exchange. */
  remove(): Promise<void>;
}

/**
 * Delays between attempts for services under test (CONSUMER_RETRY_DELAYS_MS): short, so that retries and
 * dead-lettering happen within a test, and known, so that `remove()` can delete their delay queues.
 */
export const TEST_RETRY_DELAYS_MS = [100, 300] as const;

/** The broker tests use: the machine's own unless TEST_RABBITMQ_URL says otherwise. */
export const TEST_RABBITMQ_URL = process.env.TEST_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** Declares `test.<prefix>.<random>` as a durable topic exchange, as the services declare theirs. */
export async function createTestExchange(prefix: string): Promise<TestExchange> {
  const name = `test.${prefix}.${randomBytes(5).toString('hex')}`;
  const connection = new Connection({ ...brokerAddresses(TEST_RABBITMQ_URL), retryLow: 100 });
  await connection.exchangeDeclare({ exchange: name, type: 'topic', durable: true });
  const queues: string[] = [];
  const consumers: { close(): Promise<void> }[] = [];
  const publisher = connection.createPublisher({ confirm: true });
  return {
    name,
    async publish(routingKey, body, options = {}) {
      const messageId = options.messageId ?? (body as { id?: string } | null)?.id;
      await publisher.send(
        { exchange: name, routingKey, durable: true, contentType: 'application/json', messageId },
        Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
      );
    },
    async capture(bindingKeys) {
      const queue = `${name}.q${queues.length}`;
      queues.push(queue);
      const received: CapturedMessage[] = [];
      // Exclusive and auto-deleted: the broker removes the queue even if the test process dies.
      const consumer = connection.createConsumer(
        {
          queue,
          noAck: true,
          queueOptions: { exclusive: true, autoDelete: true },
          queueBindings: bindingKeys.map((routingKey) => ({ exchange: name, routingKey })),
        },
        (message: AsyncMessage) => {
          received.push({
            routingKey: message.routingKey,
            messageId: message.messageId,
            headers: message.headers,
            body: JSON.parse(
              Buffer.isBuffer(message.body) ? message.body.toString('utf8') : JSON.stringify(message.body),
            ),
          });
        },
      );
      consumers.push(consumer);
      await new Promise<void>((resolve) => consumer.once('ready', () => resolve()));
      return received;
    },
    async remove() {
      for (const consumer of consumers) await consumer.close();
      await publisher.close();
      for (const queue of queues) await connection.queueDelete({ queue }).catch(() => undefined);
      await deleteTopology(connection, name, SUBSCRIPTIONS, TEST_RETRY_DELAYS_MS);
      await connection.exchangeDelete({ exchange: name });
      await connection.close();
    },
  };
}

/**
 * The variables every service under test needs, for the service whose variables carry `prefix`: its
 * listener on a free loopback port, its database, the test's exchange, and short retries.
 */
export function testServiceEnv(
  prefix: string,
  database: { url: string },
  exchange: { name: string },
): Record<string, string> {
  return {
    [`${prefix}_HOST`]: '127.0.0.1',
    [`${prefix}_PORT`]: '0',
    [`${prefix}_DATABASE_URL`]: database.url,
    RABBITMQ_URL: TEST_RABBITMQ_URL,
    RABBITMQ_EXCHANGE: exchange.name,
    OUTBOX_POLL_INTERVAL_MS: '500',
    CONSUMER_RETRY_DELAYS_MS: TEST_RETRY_DELAYS_MS.join(','),
    CONSUMER_MAX_ATTEMPTS: '3',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    AUTH_JWT_SECRET: TEST_AUTH_SECRET,
    // Tests start from SPEC §6's stock, as npm start does (only inventory reads it).
    INVENTORY_SEED_STOCK: 'true',
    // Services under test share their process with the test runner, whose own work would count as the
    // order service's event loop being behind: refusals by loop delay are tested on their own.
    ORDER_MAX_LOOP_DELAY_MS: '0',
    // Every test calls from 127.0.0.1 as one operator: per-customer limits are tested on their own.
    ORDER_CUSTOMER_RATE_MAX: '0',
    ORDER_CUSTOMER_MAX_IN_FLIGHT: '0',
  };
}
