import { Type } from 'typebox';
import { parseEnv } from '@platform/config';

const Rates = (fallback: string) =>
  Type.String({ pattern: '^\\d+(\\.\\d+)?(,\\d+(\\.\\d+)?)*$', default: fallback });

const BenchEnv = Type.Object({
  BENCH_RATES: Rates('50,100,250,500,750,1000'),
  BENCH_SINGLE_PRODUCT_RATES: Type.String({
    pattern: '^(none|\\d+(\\.\\d+)?(,\\d+(\\.\\d+)?)*)$',
    default: '250,500',
  }),
  BENCH_LIGHT_RATE: Type.Number({ minimum: 0, default: 10 }),
  BENCH_TWICE: Type.Boolean({ default: true }),
  BENCH_HALF: Type.Boolean({ default: true }),
  BENCH_DURATION_S: Type.Number({ exclusiveMinimum: 0, default: 20 }),
  BENCH_DRAIN_S: Type.Number({ minimum: 0, default: 30 }),
  BENCH_STEADY_FROM_S: Type.Number({ minimum: 0, default: 5 }),
  BENCH_IDLE_S: Type.Number({ minimum: 1, default: 10 }),
  BENCH_WARMUP_S: Type.Number({ minimum: 0, default: 15 }),
  BENCH_WARMUP_RATE: Type.Number({ exclusiveMinimum: 0, default: 100 }),
  BENCH_OVERLOAD_FACTOR: Type.Number({ minimum: 0, default: 3 }),
  BENCH_OVERLOAD_S: Type.Number({ exclusiveMinimum: 0, default: 30 }),
  BENCH_FLOOD_FACTOR: Type.Number({ minimum: 0, default: 3 }),
  BENCH_FLOOD_S: Type.Number({ exclusiveMinimum: 0, default: 30 }),
  BENCH_STOP_AFTER_UNSUSTAINABLE: Type.Integer({ minimum: 1, default: 2 }),
  BENCH_CONNECTIONS: Type.Integer({ minimum: 1, default: 256 }),
  BENCH_POSTGRES_URL: Type.String({
    pattern: '^postgres(ql)?://',
    default: 'postgres://postgres@127.0.0.1:5432',
  }),
  BENCH_RABBITMQ_URL: Type.String({ pattern: '^amqps?://', default: 'amqp://guest:guest@127.0.0.1:5672' }),
  BENCH_OUTPUT: Type.String({ minLength: 1, default: 'bench-e2e-results.json' }),
  BENCH_STOCK: Type.Integer({ minimum: 1, default: 10_000_000 }),
  BENCH_CPU_PROFILE_DIR: Type.Optional(Type.String({ minLength: 1 })),
  BENCH_TRACES_SAMPLING: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  CONSUMER_RETRY_DELAYS_MS: Type.String({ pattern: '^\\d+(,\\d+)*$', default: '1000,5000,15000' }),
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
