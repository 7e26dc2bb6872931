import { Type } from 'typebox';
import { parseEnv } from '@platform/config';

const Rates = (fallback: string, description: string) =>
  Type.String({ pattern: '^\\d+(\\.\\d+)?(,\\d+(\\.\\d+)?)*$', default: fallback, description });

/**
 * Every variable `npm run bench:e2e` reads itself (the system under test takes its own from the same
 * environment), each with a `description`: docs/configuration.md and .env.example are generated from them
 * (`npm run config-docs`).
 */
export const BenchEnv = Type.Object({
  BENCH_RATES: Rates(
    '50,100,250,500,750,1000',
    'The ladder of mixed-load rates, orders/s, climbed until BENCH_STOP_AFTER_UNSUSTAINABLE rates in a row ' +
      'are not sustainable',
  ),
  BENCH_SINGLE_PRODUCT_RATES: Type.String({
    pattern: '^(none|\\d+(\\.\\d+)?(,\\d+(\\.\\d+)?)*)$',
    default: '250,500',
    description: 'The rates of a single product (`classic-box`, the hot row), orders/s; `none` skips them',
  }),
  BENCH_LIGHT_RATE: Type.Number({
    minimum: 0,
    default: 10,
    description: 'A light step first (order-to-final latency when nothing queues), orders/s; `0` skips it',
  }),
  BENCH_TWICE: Type.Boolean({
    default: true,
    description: 'Whether to measure twice the maximum sustainable rate',
  }),
  BENCH_HALF: Type.Boolean({
    default: true,
    description:
      "Whether to measure half the maximum sustainable rate (SPEC §4.11's latency targets hold there)",
  }),
  BENCH_DURATION_S: Type.Number({
    exclusiveMinimum: 0,
    default: 20,
    description: 'Load of each step, in s',
  }),
  BENCH_DRAIN_S: Type.Number({
    minimum: 0,
    default: 30,
    description: 'How long after the last request of a step every accepted order may take to be final, in s',
  }),
  BENCH_STEADY_FROM_S: Type.Number({
    minimum: 0,
    default: 5,
    description:
      'Orders final from this far into a step on count as steady (skips the ramp-up), in s; at most half ' +
      'BENCH_DURATION_S',
  }),
  BENCH_IDLE_S: Type.Number({
    minimum: 1,
    default: 10,
    description: 'How long the CPU of each process is measured with no load, in s',
  }),
  BENCH_WARMUP_S: Type.Number({
    minimum: 0,
    default: 15,
    description: 'An unmeasured step first, in s: V8 compiles the hot code during the first seconds of load',
  }),
  BENCH_WARMUP_RATE: Type.Number({
    exclusiveMinimum: 0,
    default: 100,
    description: 'The rate of the unmeasured step, orders/s',
  }),
  BENCH_OVERLOAD_FACTOR: Type.Number({
    minimum: 0,
    default: 3,
    description:
      'The overload step, over pooled connections: this many times the sustainable rate (`0` skips it)',
  }),
  BENCH_OVERLOAD_S: Type.Number({
    exclusiveMinimum: 0,
    default: 30,
    description: 'Load of the overload step, in s',
  }),
  BENCH_FLOOD_FACTOR: Type.Number({
    minimum: 0,
    default: 3,
    description:
      'The flood step, a new connection per request: this many times the sustainable rate (`0` skips it)',
  }),
  BENCH_FLOOD_S: Type.Number({
    exclusiveMinimum: 0,
    default: 30,
    description: 'Load of the flood step, in s',
  }),
  BENCH_STOP_AFTER_UNSUSTAINABLE: Type.Integer({
    minimum: 1,
    default: 2,
    description: 'The ladder stops after this many rates in a row that were not sustainable',
  }),
  BENCH_CONNECTIONS: Type.Integer({
    minimum: 1,
    default: 256,
    description: 'Pooled connections of the load',
  }),
  BENCH_POSTGRES_URL: Type.String({
    pattern: '^postgres(ql)?://',
    default: 'postgres://postgres@127.0.0.1:5432',
    description: 'The PostgreSQL server the benchmark creates its databases on',
  }),
  BENCH_RABBITMQ_URL: Type.String({
    pattern: '^amqps?://',
    default: 'amqp://guest:guest@127.0.0.1:5672',
    description: 'The broker the benchmark runs on (an exchange and queues of its own, removed at the end)',
  }),
  BENCH_OUTPUT: Type.String({
    minLength: 1,
    default: 'bench-e2e-results.json',
    description: 'Where the results go (JSON)',
  }),
  BENCH_STOCK: Type.Integer({
    minimum: 1,
    default: 10_000_000,
    description: 'Units of each product put in stock before the load',
  }),
  BENCH_CPU_PROFILE_DIR: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'When set, every process runs under `node --cpu-prof` and writes its profile here ' +
        '(`npm run bench:profiles -- <dir>` summarises them)',
    }),
  ),
  BENCH_TRACES_SAMPLING: Type.Optional(
    Type.Number({
      minimum: 0,
      maximum: 1,
      description:
        'When set, a ratio such as `0.1`: every service traces at that ratio and exports to a sink in the ' +
        'benchmark; unset: tracing off',
    }),
  ),
  CONSUMER_RETRY_DELAYS_MS: Type.String({
    pattern: '^\\d+(,\\d+)*$',
    default: '1000,5000,15000',
    description: "The services' retry delays, as they read them: the benchmark removes their delay queues",
  }),
});

const list = (text: string): number[] => (text === 'none' ? [] : text.split(',').map(Number));

/** The benchmark's settings (see main.ts for what each does), and the environment its system inherits. */
export function loadBenchConfig(env: Record<string, string | undefined> = process.env) {
  const e = parseEnv(BenchEnv, env);
  return {
    /** Handed to the system under test, which takes its own variables from it (CONSUMER_PREFETCH, …). */
    env,
    rates: list(e.BENCH_RATES),
    singleProductRates: list(e.BENCH_SINGLE_PRODUCT_RATES),
    /** A light step first (order-to-final latency when nothing queues); 0 skips it. */
    lightRate: e.BENCH_LIGHT_RATE,
    /** Whether to measure twice the maximum sustainable rate. */
    twice: e.BENCH_TWICE,
    /** Whether to measure half the maximum sustainable rate (SPEC §4.11's latency targets hold there). */
    half: e.BENCH_HALF,
    durationS: e.BENCH_DURATION_S,
    drainS: e.BENCH_DRAIN_S,
    steadyFromS: Math.min(e.BENCH_STEADY_FROM_S, e.BENCH_DURATION_S / 2),
    idleS: e.BENCH_IDLE_S,
    /**
     * An unmeasured step first: V8 compiles the hot code during the first seconds of load, several
     * seconds of CPU that would otherwise be charged to the first measured rate.
     */
    warmup: { seconds: e.BENCH_WARMUP_S, rate: e.BENCH_WARMUP_RATE },
    /** The overload step, over pooled connections: this many times the sustainable rate (0 skips it). */
    overloadFactor: e.BENCH_OVERLOAD_FACTOR,
    overloadS: e.BENCH_OVERLOAD_S,
    /** The flood step, a new connection per request: this many times the sustainable rate (0 skips it). */
    floodFactor: e.BENCH_FLOOD_FACTOR,
    floodS: e.BENCH_FLOOD_S,
    stopAfterUnsustainable: e.BENCH_STOP_AFTER_UNSUSTAINABLE,
    connections: e.BENCH_CONNECTIONS,
    postgresUrl: e.BENCH_POSTGRES_URL,
    rabbitmqUrl: e.BENCH_RABBITMQ_URL,
    output: e.BENCH_OUTPUT,
    stock: e.BENCH_STOCK,
    /** When set, every service runs with `node --cpu-prof` and writes its profile here. */
    cpuProfileDir: e.BENCH_CPU_PROFILE_DIR,
    /**
     * When set, the services trace (OTEL_TRACES_SAMPLER parentbased_traceidratio at this ratio) and export
     * to a sink in the bench process; unset, tracing is off (no OTEL endpoint).
     */
    tracesSampling: e.BENCH_TRACES_SAMPLING,
    retryDelaysMs: list(e.CONSUMER_RETRY_DELAYS_MS),
  };
}

export type BenchConfig = ReturnType<typeof loadBenchConfig>;
