import { Counter, Gauge } from 'prom-client';
import type { Registry } from '@platform/observability';

/** Why an order was refused before it was read. */
export type Refusal = 'orders_in_flight' | 'intake_queue';

/** The bound on work in flight, checked before a new order's request is even parsed (SPEC §4.9). */
export interface AdmissionControl {
  /** Whether one more order may be taken now. Never waits: the count it compares is kept fresh behind it. */
  admits(): boolean;
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
 * wait out until the saga deadline cancels them (SPEC §4.9). The count comes from the database (every
 * instance's orders, from the partial index of PENDING orders), re-read at most every `refreshMs` while
 * orders arrive, plus what this instance placed since; nothing is read while no order comes.
 */
export function createAdmissionControl(options: {
  maxInFlight: number;
  /** Orders not yet final, all instances together. */
  countInFlight(): Promise<number>;
  refreshMs: number;
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
      help: 'Orders refused with 503 before they were read, by reason (orders_in_flight, intake_queue)',
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
    if (counting || performance.now() - countedAt < options.refreshMs) return;
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

  return {
    admits() {
      refresh();
      return counted + placedSince < options.maxInFlight;
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
