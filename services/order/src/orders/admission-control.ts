import { Counter, Gauge } from 'prom-client';
import type { Registry } from '@platform/observability';

/** Why an order was refused before it was read. */
export type Refusal = 'orders_in_flight' | 'intake_queue' | 'event_loop_delay';

/**
 * The orders not yet final, all instances together: their number, and the customers with at least the
 * number asked for (`countInFlight`'s argument, half the per-customer cap), each with theirs.
 */
export interface InFlightCount {
  total: number;
  /** Customer (user id) → orders not yet final; only customers near their cap are listed. */
  byCustomer: ReadonlyMap<string, number>;
}

/** The bound on work in flight, checked before a new order's request is even parsed (SPEC §4.9). */
export interface AdmissionControl {
  /**
   * Why one more order would be refused now, or undefined when it may be taken. Never waits: the count it
   * compares is kept fresh behind it, and so is the event loop's delay.
   */
  refusal(): Refusal | undefined;
  /**
   * Takes one of this customer's `maxInFlightPerCustomer` places for an order about to be stored, or
   * answers false when they have none left (SPEC §4.9: one customer cannot take the whole capacity):
   * answered `429`. Counted from the same count as `refusal`, plus what this instance admitted since, so
   * that concurrent requests of one customer cannot all pass; an admitted order that is not stored after
   * all (a replay, a failure) counts until the next count.
   */
  admitCustomer(userId: string): boolean;
  /** Counts orders this instance just stored, until the next count from the database includes them. */
  placed(count: number): void;
  /** Records a refusal (metrics). */
  refused(reason: Refusal): void;
  /** Records a `429` of a customer past one of their limits (metrics). */
  customerRefused(request: 'place_order' | 'cancel_order', limit: 'rate' | 'in_flight'): void;
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
  /** A customer's orders not yet final past which theirs are refused (`429`); absent: no such cap. */
  maxInFlightPerCustomer?: number;
  /** How far behind the event loop may be before orders are refused, in ms; absent: no such bound. */
  maxLoopDelayMs?: number;
  /** How often, at most, the loop's delay is measured while orders arrive, in ms (50 when absent). */
  loopProbeMs?: number;
  /**
   * Orders not yet final, all instances together, with the customers that have at least `atLeast` of
   * them (half the per-customer cap; `Infinity` when there is no cap).
   */
  countInFlight(atLeast: number): Promise<InFlightCount>;
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
  let countedByCustomer: ReadonlyMap<string, number> = new Map();
  // Per customer, what this instance admitted since the count began that may not include it.
  let placedByCustomer = new Map<string, number>();
  let placedByCustomerBefore = new Map<string, number>();
  const customerCap = options.maxInFlightPerCustomer;
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
  const customerRefusals =
    options.registry &&
    new Counter({
      name: 'customer_limit_refusals_total',
      help: 'Requests answered 429 because their customer was past a limit, by request (place_order, cancel_order) and limit (rate, in_flight)',
      labelNames: ['request', 'limit'] as const,
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
    // What was placed while counting may or may not be in the count: kept, to err on refusing.
    placedByCustomerBefore = placedByCustomer;
    placedByCustomer = new Map();
    counting = options
      .countInFlight(customerCap === undefined ? Number.POSITIVE_INFINITY : Math.ceil(customerCap / 2))
      .then(
        (count) => {
          counted = count.total;
          countedByCustomer = count.byCustomer;
          placedSince -= placedBefore;
          placedByCustomerBefore = new Map();
          countedAt = performance.now();
        },
        (error: unknown) => {
          // No new count: what was placed before it stays counted.
          for (const [userId, n] of placedByCustomerBefore) {
            placedByCustomer.set(userId, (placedByCustomer.get(userId) ?? 0) + n);
          }
          placedByCustomerBefore = new Map();
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
    admitCustomer(userId) {
      if (customerCap === undefined) return true;
      const admittedSince = placedByCustomer.get(userId) ?? 0;
      const inFlight =
        (countedByCustomer.get(userId) ?? 0) + (placedByCustomerBefore.get(userId) ?? 0) + admittedSince;
      if (inFlight >= customerCap) return false;
      placedByCustomer.set(userId, admittedSince + 1);
      return true;
    },
    placed(count) {
      placedSince += count;
    },
    refused(reason) {
      refusals?.inc({ reason });
    },
    customerRefused(request, limit) {
      customerRefusals?.inc({ request, limit });
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
