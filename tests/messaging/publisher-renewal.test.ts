import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Connection } from 'rabbitmq-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerAddresses, connectBroker, type Broker } from '@platform/messaging';
import { TEST_RABBITMQ_URL } from '@platform/testing';

// A refused publish (basic.nack) makes the broker publish on a new channel from then on: on a RabbitMQ
// cluster, a channel opened while a queue's leader moved kept having its publishes to that queue refused
// (the cluster chaos run). A queue that is always full stands in for the refusing queue here.
const exchange = `test.renewal.${randomBytes(5).toString('hex')}`;
const fullQueue = `${exchange}.full`;
const openQueue = `${exchange}.open`;
const lines: string[] = [];
let admin: Connection;
let broker: Broker;

beforeAll(async () => {
  admin = new Connection({ ...brokerAddresses(TEST_RABBITMQ_URL), retryLow: 100 });
  await admin.exchangeDeclare({ exchange, type: 'topic', durable: true });
  await admin.queueDeclare({
    queue: fullQueue,
    durable: true,
    arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' },
  });
  await admin.queueDeclare({ queue: openQueue, durable: true });
  await admin.queueBind({ queue: fullQueue, exchange, routingKey: 'refused' });
  await admin.queueBind({ queue: openQueue, exchange, routingKey: 'taken' });
  const logger = pino(
    { level: 'warn' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  );
  broker = connectBroker({
    url: TEST_RABBITMQ_URL,
    connectionName: 'renewal-test',
    exchange,
    subscriptions: {},
    logger,
  });
  await broker.connection.onConnect(5_000);
});
afterAll(async () => {
  await broker.close();
  for (const queue of [fullQueue, openQueue]) await admin.queueDelete({ queue });
  await admin.exchangeDelete({ exchange });
  await admin.close();
});

const message = (routingKey: string, n: number) => ({
  messageId: `${routingKey}-${n}`,
  routingKey,
  correlationId: 'order-1',
  body: JSON.stringify({ n }),
});
const renewals = () => lines.filter((line) => line.includes('publishing on a new channel')).length;

describe('a publish the broker refuses', () => {
  it('fails, and the next publishes go out on a new channel (at most one renewal a second)', async () => {
    const [refused, taken] = await broker.publishAll([message('refused', 1), message('taken', 1)]);
    expect(refused).toMatchObject({ status: 'rejected', reason: { code: 'NACK' } });
    expect(taken?.status).toBe('fulfilled');
    expect(renewals()).toBe(1);

    // Refused again at once: the same renewal stands.
    const [again] = await broker.publishAll([message('refused', 2)]);
    expect(again?.status).toBe('rejected');
    expect(renewals()).toBe(1);

    // The new channel publishes.
    const results = await broker.publishAll([message('taken', 2), message('taken', 3)]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled']);
    const { messageCount } = await admin.queueDeclare({ queue: openQueue, passive: true });
    expect(messageCount).toBe(3);
  });
});
