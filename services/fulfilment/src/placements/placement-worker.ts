import { backoffMs } from '@platform/backoff';
import type { Kysely } from 'kysely';
import type { OrderSnapshot } from '@platform/contracts';
import { Counter } from 'prom-client';
import { context, type Context } from '@opentelemetry/api';
import { createGroupCommit } from '@platform/group-commit';
import type { Logger, Registry } from '@platform/observability';
import { startLeaseWorker, type LeaseWorker } from '@platform/lease-worker';
import { transactForCorrelations, type Transact } from '@platform/service-host';
import type { PlacementSettings } from '../config.js';
import type { FulfilmentDatabase } from '../database.js';
import { recordAttempts, type AttemptToRecord, type PlacementApplied } from './apply-placement-decisions.js';
import type { FulfilmentPartner, PartnerItem } from './fulfilment-partner.client.js';
import { isLookUpOnly, type AttemptResult, type LeasedPlacement } from './placement.js';
import { leaseDuePlacements, releaseLeases } from './placements.repository.js';

/** Most results recorded in one transaction. */
const MAX_RECORDED_TOGETHER = 256;

/** What the placement worker works with. */
interface PlacementWorkerDeps {
  db: Kysely<FulfilmentDatabase>;
  transact: Transact<FulfilmentDatabase>;
  partner: FulfilmentPartner;
  settings: PlacementSettings;
  logger: Logger;
  registry: Registry;
}

/**
 * Places paid orders at the partner off the message path: each leased placement gets one attempt, and a
 * failed one is made due again in the database, so retries outlive any one process. A call in flight is
 * let finish when the worker stops (it is bounded by the call timeout), so its result is recorded.
 * Results of placements attempted at the same time are recorded together, in one transaction.
 */
export function startPlacementWorker(deps: PlacementWorkerDeps): LeaseWorker<LeasedPlacement> {
  const { db, settings, logger } = deps;
  const attemptsMetric = new Counter({
    name: 'placement_attempts_total',
    help: 'Calls to the fulfilment partner by outcome (placed, retry_scheduled, failed, …)',
    labelNames: ['outcome'] as const,
    registers: [deps.registry],
  });
  const record = createGroupCommit<AttemptToRecord & { traceContext: Context }, PlacementApplied>(
    (attempts) =>
      transactForCorrelations(
        deps.transact,
        'record placement attempts',
        attempts.map(({ leased, traceContext }) => ({ correlationId: leased.order_id, traceContext })),
        (trx) => recordAttempts(trx, attempts, settings.leaseMs),
      ),
    { maxBatch: MAX_RECORDED_TOGETHER, maxConcurrentBatches: 1 },
  );
  return startLeaseWorker<LeasedPlacement>({
    lease: (limit) => leaseDuePlacements(db, limit, settings.leaseMs),
    async process(placement) {
      const { attempts } = placement;
      const result = await attemptPlacement(deps, placement, attempts);
      const { outcome } = await record.submit({ leased: placement, result, traceContext: context.active() });
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
      return result.kind === 'retry' && outcome === 'retry_scheduled'
        ? { dueInMs: result.delayMs }
        : undefined;
    },
    release: (placements) =>
      releaseLeases(
        db,
        placements.map((p) => p.order_id),
      ),
    describe: (placement) => ({ correlation_id: placement.order_id }),
    trace: {
      spanName: (placement) => (isLookUpOnly(placement) ? 'look up placement' : 'place order'),
      contextOf: (placement) => placement.trace_context,
    },
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
 * One attempt for a leased placement: placed; retried after the backoff while the retry still comes by
 * the deadline; otherwise given up, though after an uncertain failure only once the partner says it does
 * not have the order. No transaction is open during a call.
 */
async function attemptPlacement(
  deps: PlacementWorkerDeps,
  placement: LeasedPlacement,
  attempt: number,
): Promise<AttemptResult> {
  const { order } = placement;
  const delayMs = backoffMs(attempt, deps.settings.retry, 'equal');
  if (isLookUpOnly(placement)) return settleByLookUp(deps, placement, delayMs, 'not placed by its deadline');
  const result = await deps.partner.place(order.order_id, partnerItems(order));
  if (result.kind === 'placed') return { kind: 'placed', placementId: result.placementId };
  if (Date.now() + delayMs <= placement.deadline_at.getTime())
    return { kind: 'retry', error: result.error, delayMs };
  if (!result.uncertain) return { kind: 'failed', error: result.error };
  // The deadline has come, but the last call may have placed the order: fail only once the partner says
  // it did not.
  return settleByLookUp(deps, placement, delayMs, result.error);
}

/**
 * Asks the partner whether it has the order: a placement found is what happened, none found fails the
 * placement with `failure`, and no answer means asking again after `delayMs`, a little past the deadline
 * at most, rather than fail an order the partner may be fulfilling.
 */
async function settleByLookUp(
  deps: PlacementWorkerDeps,
  placement: LeasedPlacement,
  delayMs: number,
  failure: string,
): Promise<AttemptResult> {
  const lookup = await deps.partner.findPlacement(placement.order.order_id);
  if (lookup.kind === 'placed') return { kind: 'placed', placementId: lookup.placementId };
  if (lookup.kind === 'not_placed') return { kind: 'failed', error: failure };
  const error = `${failure}; look-up: ${lookup.error}`;
  const lookUpDeadline = placement.deadline_at.getTime() + LOOKUP_GRACE_CEILINGS * deps.settings.retry.maxMs;
  return Date.now() + delayMs <= lookUpDeadline
    ? { kind: 'retry', error, delayMs }
    : { kind: 'failed', error };
}

/** The order's items as the partner takes them, without the names and prices it has no use for. */
function partnerItems(order: OrderSnapshot): PartnerItem[] {
  return order.items.map((item) => ({ product_code: item.product_code, quantity: item.quantity }));
}
