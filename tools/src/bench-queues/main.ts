/**
 * `npm run bench:queues`: what a message costs RabbitMQ in each queue type a single node could use for the
 * services' work queues (SPEC §3 allows durable classic queues, version 2, on one node if measured cheaper):
 * quorum queues against classic v2, each a persistent message published with confirms to an exchange that
 * routes it to two queues (an event with two subscribers), consumed and acknowledged, at a light rate and
 * at a busy one. The two types alternate, `BENCH_QUEUES_ROUNDS` rounds each, and the broker's CPU (its whole
 * process tree, from /proc) is read around each run, less what the broker spends idle over as long.
 *
 * Settings: BENCH_QUEUES_RATES (messages a second, default 10,300), BENCH_QUEUES_SECONDS (per run, default
 * 15), BENCH_QUEUES_ROUNDS (default 2), BENCH_RABBITMQ_URL. Queues and exchange are of its own, removed at
 * the end. It exits 0 once it has measured.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from 'rabbitmq-client';
import { findServerProcess, treeCpuMs } from '../bench-e2e/process-cpu.js';
import { markdownTable } from '../bench-e2e/report.js';
import { loadBenchQueuesConfig } from './config.js';

const config = loadBenchQueuesConfig();
const { rates } = config;
const say = (line = '') => process.stdout.write(`${line}\n`);

type QueueType = 'quorum' | 'classic';
const ARGUMENTS: Record<QueueType, Record<string, unknown>> = {
  // As the services declare their work queues (@platform/messaging topology), less what no run reaches.
  quorum: { 'x-queue-type': 'quorum', 'x-delivery-limit': 10 },
  classic: { 'x-queue-type': 'classic', 'x-queue-version': 2 },
};
/** An order event's size: the envelope, a two-item snapshot and three steps (about 1 kB). */
const BODY = JSON.stringify({
  id: randomBytes(16).toString('hex'),
  type: 'payment.processed',
  payload: { order: { items: [{ product_code: 'classic-box', quantity: 1 }], name: 'x'.repeat(700) } },
});

const brokerPid = findServerProcess(Number(new URL(config.rabbitmqUrl).port || 5672), 'beam.smp');
if (brokerPid === undefined) {
  say('RabbitMQ is not running on this machine: its CPU cannot be read');
  process.exit(2);
}
const brokerCpuMs = () => treeCpuMs(brokerPid);
const connection = new Connection({ url: config.rabbitmqUrl, connectionName: 'bench-queues' });
const channel = await connection.acquire();
const exchange = `bench-queues.${randomBytes(4).toString('hex')}`;
await channel.exchangeDeclare({ exchange, type: 'topic', durable: true });
const publisher = connection.createPublisher({ confirm: true });

/** Broker CPU per published message (two deliveries each), in µs, less the idle rate measured before. */
async function run(type: QueueType, rate: number): Promise<number> {
  const queues = [1, 2].map((n) => `${exchange}.${type}.${rate}.${n}`);
  for (const queue of queues) {
    await channel.queueDeclare({ queue, durable: true, arguments: ARGUMENTS[type] });
    await channel.queueBind({ exchange, queue, routingKey: 'event' });
  }
  let received = 0;
  const consumers = queues.map((queue) =>
    connection.createConsumer({ queue, queueOptions: { passive: true }, qos: { prefetchCount: 50 } }, () => {
      received += 1;
    }),
  );
  await sleep(1_000);
  const idleStart = brokerCpuMs();
  await sleep(3_000);
  const idleMsPerS = (brokerCpuMs() - idleStart) / 3;
  const total = Math.round(rate * config.seconds);
  const before = brokerCpuMs();
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = started + (i * 1000) / rate - performance.now();
    if (wait > 1) await sleep(wait);
    await publisher.send({ exchange, routingKey: 'event', durable: true, messageId: String(i) }, BODY);
  }
  while (received < total * queues.length) await sleep(10);
  const elapsedS = (performance.now() - started) / 1000;
  const usedMs = brokerCpuMs() - before - idleMsPerS * elapsedS;
  for (const consumer of consumers) await consumer.close();
  for (const queue of queues) await channel.queueDelete({ queue });
  return (usedMs * 1000) / total;
}

const results = new Map<string, number[]>();
try {
  say(`bench:queues: ${rates.join(', ')} messages/s for ${config.seconds} s each, ${config.rounds} round(s)`);
  for (let round = 0; round < config.rounds; round++) {
    // Alternating which type goes first, so that neither always runs on a warmer broker.
    const order: QueueType[] = round % 2 === 0 ? ['quorum', 'classic'] : ['classic', 'quorum'];
    for (const rate of rates) {
      for (const type of order) {
        const us = await run(type, rate);
        say(`  ${type} at ${rate}/s: ${us.toFixed(0)} µs of broker CPU per message`);
        results.set(`${type} ${rate}`, [...(results.get(`${type} ${rate}`) ?? []), us]);
      }
    }
  }
  const mean = (values: number[] = []) => values.reduce((sum, v) => sum + v, 0) / values.length;
  say();
  say(
    markdownTable(
      ['messages/s', 'quorum µs/message', 'classic v2 µs/message', 'classic / quorum'],
      rates.map((rate) => {
        const quorum = mean(results.get(`quorum ${rate}`));
        const classic = mean(results.get(`classic ${rate}`));
        return [String(rate), quorum.toFixed(0), classic.toFixed(0), (classic / quorum).toFixed(2)];
      }),
    ),
  );
} finally {
  await publisher.close();
  await channel.exchangeDelete({ exchange });
  await channel.close();
  await connection.close();
}
process.exit(0);
