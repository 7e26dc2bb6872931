/** What the benchmark asks of its load generator, and what it answers (over the fork's IPC channel). */

/**
 * How the load generator's requests reach the order API: `pooled`, over a pool of kept-alive connections
 * (BENCH_CONNECTIONS of them), as a service calling another would; `per-request`, each request on a new
 * connection closed after its answer, as thousands of independent clients would (SPEC §4.9).
 */
export type ConnectionMode = 'pooled' | 'per-request';

/** One open-loop step: `rate` orders a second for `durationS`, bodies taken in turn from `bodies`. */
export interface RunStep {
  kind: 'run';
  rate: number;
  durationS: number;
  /** JSON bodies of `POST /orders`, used in turn. */
  bodies: string[];
  /** Waits at most this long after the last request for every accepted order to be final. */
  drainS: number;
  /** Orders final from this far into the step on count as steady (skips the ramp-up), in s. */
  steadyFromS: number;
  connections: ConnectionMode;
}

/** The load generator's setup: where to send orders and where final events are announced. */
export interface LoadSetup {
  kind: 'setup';
  orderUrl: string;
  rabbitmqUrl: string;
  exchange: string;
  connections: number;
}

export type LoadCommand = LoadSetup | RunStep | { kind: 'stop' };

/** Percentiles of a latency distribution, in ms. */
export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** What one step measured. */
export interface StepResult {
  rate: number;
  durationS: number;
  sent: number;
  accepted: number;
  /**
   * Answers by HTTP status: 'error' for a request whose connection failed or closed without an answer,
   * 'timeout' for one unanswered after ten seconds.
   */
  statuses: Record<string, number>;
  /** 503 answers that carried a Retry-After header. */
  retryAfter: number;
  /** Scheduled send time to the end of the answer: a late send counts as waiting (coordinated omission). */
  intakeMs: Percentiles;
  /** Final orders a second, between `steadyFromS` and the end of the load. */
  steadyFinalsPerS: number;
  /** Scheduled send time to the order.completed / order.cancelled event, for every accepted order. */
  orderToFinalMs: Percentiles;
  /** Accepted orders still not final after the drain. */
  notFinal: number;
  /** Final states of accepted orders: `COMPLETED`, or `CANCELLED <reason>`. */
  outcomes: Record<string, number>;
  /**
   * Orders that became final while the step ran, this step's or earlier ones' (a backlog): what the CPU
   * of the step was spent on.
   */
  finalsDuringStep: number;
  /** From the first request to the last final (or the end of the drain), in ms. */
  elapsedMs: number;
}

export type LoadReply = { kind: 'ready' } | { kind: 'result'; result: StepResult };
