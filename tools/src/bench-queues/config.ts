import { Type } from 'typebox';
import { parseEnv } from '@platform/config';

/**
 * Every variable `npm run bench:queues` reads, each with a `description`: docs/configuration.md and
 * .env.example are generated from them (`npm run config-docs`).
 */
export const BenchQueuesEnv = Type.Object({
  BENCH_QUEUES_RATES: Type.String({
    pattern: '^\\d+(,\\d+)*$',
    default: '10,300',
    description: 'Messages a second, one run each',
  }),
  BENCH_QUEUES_SECONDS: Type.Number({
    exclusiveMinimum: 0,
    default: 15,
    description: 'Length of each run, in s',
  }),
  BENCH_QUEUES_ROUNDS: Type.Integer({
    minimum: 1,
    default: 2,
    description: 'Rounds of each queue type, the two alternated',
  }),
  BENCH_RABBITMQ_URL: Type.String({
    pattern: '^amqps?://',
    default: 'amqp://guest:guest@127.0.0.1:5672',
    description: 'The broker measured (queues and an exchange of its own, removed at the end)',
  }),
});

/** `npm run bench:queues`' settings (see main.ts); throws a ConfigError naming every bad variable. */
export function loadBenchQueuesConfig(env: Record<string, string | undefined> = process.env) {
  const e = parseEnv(BenchQueuesEnv, env);
  return {
    /** Messages a second, one run each. */
    rates: e.BENCH_QUEUES_RATES.split(',').map(Number),
    /** Length of each run, in s. */
    seconds: e.BENCH_QUEUES_SECONDS,
    rounds: e.BENCH_QUEUES_ROUNDS,
    rabbitmqUrl: e.BENCH_RABBITMQ_URL,
  };
}
