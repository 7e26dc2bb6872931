import { Counter, Gauge } from 'prom-client';
import type { Registry } from '@platform/observability';

/** Why an order was refused before it was read. */
export type Refusal = 'orders_in_flight' | 'intake_queue' | 'event_loop_delay';

/** The bound on work in flight, checked before a new order's request is even parsed (SPEC §4.9). */
export interface AdmissionControl {
  /**
   * Why one more order would be refused now, or undefined when it may be taken. Never waits: the count it
   * compares is kept fresh behind it, and so is the event loop's delay.
   */
  refusal(): Refusal | undefined;
  /** Counts orders this instance just stored, until the next count from the database includes them. */
  placed(count: number): void;
  /** Records a refusal (metrics). */
  refused(reason: Refusal): void;
  /** The seconds a refused client should wait before trying again (`Retry-After`). */
  readonly retryAfterS: number;
}

/**
 * Admission control for `POST /orders`: past `maxInFlight` orders not yet final (COMPLETED or CANCELLED),
 * new ones are refused at once (503 with Retry-After) instead of being accepted into a backlog they would
 * wait out until the saga deadline cancels them (SPEC §4.9); and while this process's event loop is more
 * than `maxLoopDelayMs` behind, so that the answers, refusals included, keep coming within a second however
 * many connections arrive (issue 21). The count comes from the database (every
 * instance's orders, from the partial index of PENDING orders), re-read while orders arrive (at most every
 * `refreshMs.far`, or `refreshMs.near` once within half the bound), plus what this instance placed since;
 * nothing is read while no order comes.
 */
export function createAdmissionControl(options: {
  maxInFlight: number;
  /** How far behind the event loop may be before orders are refused, in ms; absent: no such bound. */
  maxLoopDelayMs?: number;
  /** How often, at most, the loop's delay is measured while orders arrive, in ms (50 when absent). */
  loopProbeMs?: number;
  /** Orders not yet final, all instances together. */
  countInFlight(): Promise<number>;
  /**
   * How old the count may get while the orders in flight are within half the bound, and when nearer, in
   * ms: far from the bound a stale count cannot let it be overshot, and every count is a query (a wake-up
   * of this process and of PostgreSQL).
   */
  refreshMs: { far: number; near: number };
  retryAfterS: number;
  registry?: Registry;
  onCountFailed?(error: unknown): void;
}): AdmissionControl {
  let counted = 0;
  let placedSince = 0;
  let countedAt = Number.NEGATIVE_INFINITY;
  let counting: Promise<void> | undefined;
  const refusals =
    options.registry &&
    new Counter({
      name: 'orders_refused_total',
      help: 'Orders refused with 503 before they were read, by reason (orders_in_flight, intake_queue, event_loop_delay)',
      labelNames: ['reason'] as const,
      registers: [options.registry],
    });
  if (options.registry) {
    new Gauge({
      name: 'orders_in_flight_limit',
      help: 'Orders not yet final past which POST /orders answers 503 (ORDER_MAX_IN_FLIGHT)',
      registers: [options.registry],
      // A setting, the same in every instance.
      aggregator: 'max',
    }).set(options.maxInFlight);
  }

  function refresh(): void {
    const near = counted + placedSince >= options.maxInFlight / 2;
    const maxAgeMs = near ? options.refreshMs.near : options.refreshMs.far;
    if (counting || performance.now() - countedAt < maxAgeMs) return;
    const placedBefore = placedSince;
    counting = options
      .countInFlight()
      .then(
        (count) => {
          counted = count;
          // What was placed while counting may or may not be in the count: kept, to err on refusing.
          placedSince -= placedBefore;
          countedAt = performance.now();
        },
        (error: unknown) => {
          countedAt = performance.now();
          options.onCountFailed?.(error);
        },
      )
      .finally(() => {
        counting = undefined;
      });
  }

  const loopDelay = createLoopDelay(options.loopProbeMs ?? 50);
  return {
    refusal() {
      if (options.maxLoopDelayMs !== undefined && loopDelay() > options.maxLoopDelayMs) {
        return 'event_loop_delay';
      }
      refresh();
      return counted + placedSince < options.maxInFlight ? undefined : 'orders_in_flight';
    },
    placed(count) {
      placedSince += count;
    },
    refused(reason) {
      refusals?.inc({ reason });
    },
    retryAfterS: options.retryAfterS,
  };
}

/**
 * How far behind the event loop is, in ms: the delay of a probe (`setImmediate`, run once the loop has
 * handled the I/O it is in the middle of) sent when asked and at most every `intervalMs`, the last one
 * measured. No timer runs while nobody asks, so a quiet process pays nothing. Under a flood of connections
 * on a saturated host it is what grows: every answer waits behind the work the loop already holds
 * (issue 21). Utilisation was tried first and refused orders at a sustainable rate: on two shared cores a
 * loop that keeps up is still busy (or waiting for a core) most of the time.
 */
export function createLoopDelay(intervalMs: number): () => number {
  let last = 0;
  let probing = false;
  let probedAt = Number.NEGATIVE_INFINITY;
  return () => {
    const now = performance.now();
    if (!probing && now - probedAt >= intervalMs) {
      probing = true;
      probedAt = now;
      setImmediate(() => {
        last = performance.now() - now;
        probing = false;
      });
    }
    return last;
  };
}
