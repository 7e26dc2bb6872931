import type { Kysely, Transaction } from 'kysely';
import { createSagaEvent, FulfilmentEvents, type OrderSnapshot } from '@platform/contracts';
import { appendToOutbox } from '@platform/outbox';
import type { FulfilmentDatabase } from '../database.js';
import {
  cancelPlacing,
  findPlacementStatus,
  insertCancelled,
  insertPlacing,
  lockOrder,
  markFailed,
  markPlaced,
  recordLatePlacement,
  scheduleRetry,
  type LeasedPlacement,
} from './placements.repository.js';

type Trx = Transaction<FulfilmentDatabase>;

/** An item as the partner takes it. */
export interface PartnerItem {
  product_code: string;
  quantity: number;
}

/**
 * How one call to the partner ended; a failure of any kind (refusal, network, timeout) is a value. It is
 * `uncertain` when the partner may have placed the order all the same (no answer, or not one that says
 * it placed nothing): only its record can tell.
 */
export type PlacementAttempt =
  { kind: 'placed'; placementId: string } | { kind: 'failed'; error: string; uncertain: boolean };

/** What the partner records for an order, or no usable answer this time. */
export type PlacementLookup =
  { kind: 'placed'; placementId: string } | { kind: 'not_placed' } | { kind: 'unavailable'; error: string };

/** The port to the fulfilment partner: the use cases do not know it is HTTP. */
export interface FulfilmentPartner {
  place(orderId: string, items: readonly PartnerItem[]): Promise<PlacementAttempt>;
  findPlacement(orderId: string): Promise<PlacementLookup>;
}

/** What the handlers and the worker did for an order; expected outcomes are values, not errors. */
export type PlacementOutcome =
  | 'placing'
  | 'cancelled'
  | 'cancelled_before_payment'
  | 'placed'
  | 'retry_scheduled'
  | 'failed'
  | 'placed_after_cancellation'
  | 'nothing_to_do';

/**
 * payment.processed: starts placing the order, given up `deadlineMs` from now. Any existing row (an
 * earlier copy of the event, or a cancellation that overtook it) means there is nothing to start.
 */
export async function startPlacement(
  trx: Trx,
  order: OrderSnapshot,
  deadlineMs: number,
): Promise<PlacementOutcome> {
  await lockOrder(trx, order.order_id);
  if (await findPlacementStatus(trx, order.order_id)) return 'nothing_to_do';
  await insertPlacing(trx, order, deadlineMs);
  return 'placing';
}

/**
 * order.cancelled: stops a placement in progress. One that came before the payment leaves a mark, so the
 * payment's event then places nothing. A placed order stays placed: the partner has no cancel API.
 */
export async function cancelPlacement(trx: Trx, order: OrderSnapshot): Promise<PlacementOutcome> {
  await lockOrder(trx, order.order_id);
  const status = await findPlacementStatus(trx, order.order_id);
  if (status === undefined) {
    await insertCancelled(trx, order);
    return 'cancelled_before_payment';
  }
  if (status !== 'placing') return 'nothing_to_do';
  return (await cancelPlacing(trx, order.order_id)) ? 'cancelled' : 'nothing_to_do';
}

/** What one placement attempt needs. */
export interface PlacementDeps {
  db: Kysely<FulfilmentDatabase>;
  partner: FulfilmentPartner;
  retry: { baseMs: number; maxMs: number };
  /** Uniform in [0, 1), for the jitter. */
  random?: () => number;
}

/**
 * Look-ups that fail at the deadline are retried for this many backoff ceilings past it, then the
 * placement fails: a few more calls at most, so that a partner that is down cannot keep it open.
 */
const LOOKUP_GRACE_CEILINGS = 3;

/** What one attempt came to, to be recorded. */
type AttemptResult =
  | { kind: 'placed'; placementId: string }
  | { kind: 'retry'; error: string }
  | { kind: 'failed'; error: string };

/**
 * One attempt at placing a leased order, then its result recorded with its event: placed, or retried
 * later with capped exponential backoff, or given up once the next try would come after the deadline
 * (once the partner has said that an uncertain last call did not place it). No transaction is open during the call. Every write is guarded by the row still being 'placing', so
 * a cancellation meanwhile (or a second worker after an expired lease) leaves one outcome and one event.
 */
export async function attemptPlacement(
  deps: PlacementDeps,
  placement: LeasedPlacement,
): Promise<PlacementOutcome> {
  const { order } = placement;
  const delayMs = retryDelayMs(placement.attempts, deps.retry, deps.random ?? Math.random);
  const result = await callPartner(deps, placement, delayMs);
  return deps.db.transaction().execute(async (trx) => {
    await lockOrder(trx, order.order_id);
    if (result.kind === 'placed') {
      if (await markPlaced(trx, order.order_id, result.placementId)) {
        await appendToOutbox(trx, [
          createSagaEvent(FulfilmentEvents.placed, 'fulfilment', order, {
            placement: { placement_id: result.placementId },
          }),
        ]);
        return 'placed';
      }
      return (await recordLatePlacement(trx, order.order_id, result.placementId))
        ? 'placed_after_cancellation'
        : 'nothing_to_do';
    }
    if (result.kind === 'retry') {
      return (await scheduleRetry(trx, order.order_id, result.error, delayMs))
        ? 'retry_scheduled'
        : 'nothing_to_do';
    }
    if (!(await markFailed(trx, order.order_id, result.error))) return 'nothing_to_do';
    await appendToOutbox(trx, [
      createSagaEvent(FulfilmentEvents.failed, 'fulfilment', order, { reason: 'placement_failed' }),
    ]);
    return 'failed';
  });
}

/**
 * The calls of one attempt. Before giving up after an uncertain failure the partner is asked whether it
 * has the order, since it may have placed it without our hearing back; a look-up that fails too is tried
 * again, a little past the deadline at most, rather than fail an order the partner may be fulfilling.
 */
async function callPartner(
  deps: PlacementDeps,
  placement: LeasedPlacement,
  delayMs: number,
): Promise<AttemptResult> {
  const { order } = placement;
  const deadline = placement.deadline_at.getTime();
  // Attempts are only retried when due by the deadline, so one due after it is a look-up's retry: past
  // the deadline the order is asked about, never placed anew.
  const lookupOnly = placement.next_attempt_at.getTime() > deadline;
  let error = 'not placed by its deadline';
  if (!lookupOnly) {
    const attempt = await deps.partner.place(order.order_id, partnerItems(order));
    if (attempt.kind === 'placed') return attempt;
    if (Date.now() + delayMs <= deadline) return { kind: 'retry', error: attempt.error };
    if (!attempt.uncertain) return { kind: 'failed', error: attempt.error };
    error = attempt.error;
  }
  const lookup = await deps.partner.findPlacement(order.order_id);
  if (lookup.kind === 'placed') return lookup;
  if (lookup.kind === 'not_placed') return { kind: 'failed', error };
  const lookupDeadline = deadline + LOOKUP_GRACE_CEILINGS * deps.retry.maxMs;
  return {
    kind: Date.now() + delayMs <= lookupDeadline ? 'retry' : 'failed',
    error: `${error}; look-up: ${lookup.error}`,
  };
}

/**
 * The wait before the next attempt after `attempts` failed ones: exponential, capped, and jittered
 * between half and all of it, so placements failing together do not retry together, yet never hammer.
 */
export function retryDelayMs(
  attempts: number,
  retry: { baseMs: number; maxMs: number },
  random: () => number,
): number {
  const ceiling = Math.min(retry.maxMs, retry.baseMs * 2 ** attempts);
  return Math.round(ceiling * (0.5 + random() / 2));
}

/** The order's items as the partner takes them, without the names and prices it has no use for. */
function partnerItems(order: OrderSnapshot): PartnerItem[] {
  return order.items.map((item) => ({ product_code: item.product_code, quantity: item.quantity }));
}
