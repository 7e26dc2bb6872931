import { randomBytes } from 'node:crypto';
import { Connection, type AsyncMessage } from 'rabbitmq-client';

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
  /** Deletes the exchange and the test's queues. */
  remove(): Promise<void>;
}

/** The broker tests use: the machine's own unless TEST_RABBITMQ_URL says otherwise. */
export const TEST_RABBITMQ_URL = process.env.TEST_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** Declares `test.<prefix>.<random>` as a durable topic exchange, as the services declare theirs. */
export async function createTestExchange(prefix: string): Promise<TestExchange> {
  const name = `test.${prefix}.${randomBytes(5).toString('hex')}`;
  const connection = new Connection({ url: TEST_RABBITMQ_URL, retryLow: 100 });
  await connection.exchangeDeclare({ exchange: name, type: 'topic', durable: true });
  const queues: string[] = [];
  const consumers: { close(): Promise<void> }[] = [];
  return {
    name,
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
      for (const queue of queues) await connection.queueDelete({ queue }).catch(() => undefined);
      await connection.exchangeDelete({ exchange: name });
      await connection.close();
    },
  };
}
