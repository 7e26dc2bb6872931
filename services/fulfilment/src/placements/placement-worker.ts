import type { Kysely } from 'kysely';
import type { OrderSnapshot } from '@platform/contracts';
import { Counter } from 'prom-client';
import type { Logger, Registry } from '@platform/observability';
import { retryDelayMs, startLeaseWorker, type LeaseWorker } from '@platform/service-host';
import type { PlacementSettings } from '../config.js';
import type { FulfilmentDatabase } from '../database.js';
import type { FulfilmentPartner, PartnerItem } from './fulfilment-partner.client.js';
import { isLookUpOnly, type LeasedPlacement, type PlacementOutcome } from './placement.js';
import { countAttempt, leaseDuePlacements, releaseLeases } from './placements.repository.js';
import { failPlacement, recordPlacement, scheduleRetry } from './record-placement-result.js';

/** What the placement worker works with. */
interface PlacementWorkerDeps {
  db: Kysely<FulfilmentDatabase>;
  partner: FulfilmentPartner;
  settings: PlacementSettings;
  logger: Logger;
  registry: Registry;
}

/**
 * Places paid orders at the partner off the message path: each leased placement gets one attempt, and a
 * failed one is made due again in the database, so retries outlive any one process. A call in flight is
 * let finish when the worker stops (it is bounded by the call timeout), so its result is recorded.
 */
export function startPlacementWorker(deps: PlacementWorkerDeps): LeaseWorker {
  const { db, settings, logger } = deps;
  const attemptsMetric = new Counter({
    name: 'placement_attempts_total',
    help: 'Calls to the fulfilment partner by outcome (placed, retry_scheduled, failed, …)',
    labelNames: ['outcome'] as const,
    registers: [deps.registry],
  });
  return startLeaseWorker<LeasedPlacement>({
    lease: (limit) => leaseDuePlacements(db, limit, settings.leaseMs),
    async process(placement) {
      // Counted before the call, so that a call that crashes its worker still counts.
      const attempts = await countAttempt(db, placement.order_id);
      const outcome = await attemptPlacement(deps, placement, attempts);
      attemptsMetric.inc({ outcome });
      const log = logger.child({ correlation_id: placement.order_id });
      if (outcome === 'placed_after_cancellation') {
        // A known limit: the partner has no cancel API, so an order it accepted stays placed there.
        log.warn(
          { outcome, attempts },
          'the partner accepted an order cancelled meanwhile; it stays placed there',
        );
      } else if (outcome === 'failed') {
        log.warn({ outcome, attempts }, 'placement given up at its deadline');
      } else {
        log.debug({ outcome, attempts }, 'placement attempted');
      }
    },
    release: (placements) =>
      releaseLeases(
        db,
        placements.map((p) => p.order_id),
      ),
    describe: (placement) => ({ correlation_id: placement.order_id }),
    concurrency: settings.concurrency,
    pollIntervalMs: settings.pollIntervalMs,
    logger,
  });
}

/**
 * Look-ups that fail at the deadline are retried for this many backoff ceilings past it, then the
 * placement fails: a few more calls at most, so that a partner that is down cannot keep it open.
 */
const LOOKUP_GRACE_CEILINGS = 3;

/**
 * One attempt for a leased placement, its result recorded with its event: placed; retried after the
 * backoff while the retry still comes by the deadline; otherwise given up, though after an uncertain
 * failure only once the partner says it does not have the order. No transaction is open during a call.
 */
async function attemptPlacement(
  deps: PlacementWorkerDeps,
  placement: LeasedPlacement,
  attempt: number,
): Promise<PlacementOutcome> {
  const { db } = deps;
  const { order } = placement;
  const delayMs = retryDelayMs(attempt, deps.settings.retry, Math.random);
  if (isLookUpOnly(placement)) return settleByLookUp(deps, placement, delayMs, 'not placed by its deadline');
  const result = await deps.partner.place(order.order_id, partnerItems(order));
  if (result.kind === 'placed') return recordPlacement(db, order, result.placementId);
  if (Date.now() + delayMs <= placement.deadline_at.getTime()) {
    return scheduleRetry(db, order.order_id, result.error, delayMs);
  }
  if (!result.uncertain) return failPlacement(db, order, result.error);
  // The deadline has come, but the last call may have placed the order: fail only once the partner says
  // it did not.
  return settleByLookUp(deps, placement, delayMs, result.error);
}

/**
 * Asks the partner whether it has the order and acts on its answer: a placement found is recorded, none
 * found fails the placement with `failure`, and no answer means asking again after `delayMs`, a little
 * past the deadline at most, rather than fail an order the partner may be fulfilling.
 */
async function settleByLookUp(
  deps: PlacementWorkerDeps,
  placement: LeasedPlacement,
  delayMs: number,
  failure: string,
): Promise<PlacementOutcome> {
  const { db } = deps;
  const { order } = placement;
  const lookup = await deps.partner.findPlacement(order.order_id);
  if (lookup.kind === 'placed') return recordPlacement(db, order, lookup.placementId);
  if (lookup.kind === 'not_placed') return failPlacement(db, order, failure);
  const error = `${failure}; look-up: ${lookup.error}`;
  const lookUpDeadline = placement.deadline_at.getTime() + LOOKUP_GRACE_CEILINGS * deps.settings.retry.maxMs;
  return Date.now() + delayMs <= lookUpDeadline
    ? scheduleRetry(db, order.order_id, error, delayMs)
    : failPlacement(db, order, error);
}

/** The order's items as the partner takes them, without the names and prices it has no use for. */
function partnerItems(order: OrderSnapshot): PartnerItem[] {
  return order.items.map((item) => ({ product_code: item.product_code, quantity: item.quantity }));
}
