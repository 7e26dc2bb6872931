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

/** How one call to the partner ended; a failure of any kind (refusal, network, timeout) is a value. */
export type PlacementAttempt = { kind: 'placed'; placementId: string } | { kind: 'failed'; error: string };

/** The port to the fulfilment partner: the use cases do not know it is HTTP. */
export interface FulfilmentPartner {
  place(orderId: string, items: readonly PartnerItem[]): Promise<PlacementAttempt>;
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
 * One attempt at placing a leased order, then its result recorded with its event: placed, or retried
 * later with capped exponential backoff, or given up once the next try would come after the deadline.
 * No transaction is open during the call. Every write is guarded by the row still being 'placing', so
 * a cancellation meanwhile (or a second worker after an expired lease) leaves one outcome and one event.
 */
export async function attemptPlacement(
  deps: PlacementDeps,
  placement: LeasedPlacement,
): Promise<PlacementOutcome> {
  const { order } = placement;
  const attempt = await deps.partner.place(order.order_id, partnerItems(order));
  return deps.db.transaction().execute(async (trx) => {
    await lockOrder(trx, order.order_id);
    if (attempt.kind === 'placed') {
      if (await markPlaced(trx, order.order_id, attempt.placementId)) {
        await appendToOutbox(trx, [
          createSagaEvent(FulfilmentEvents.placed, 'fulfilment', order, {
            placement: { placement_id: attempt.placementId },
          }),
        ]);
        return 'placed';
      }
      return (await recordLatePlacement(trx, order.order_id, attempt.placementId))
        ? 'placed_after_cancellation'
        : 'nothing_to_do';
    }
    const delayMs = retryDelayMs(placement.attempts, deps.retry, deps.random ?? Math.random);
    if (Date.now() + delayMs <= placement.deadline_at.getTime()) {
      return (await scheduleRetry(trx, order.order_id, attempt.error, delayMs))
        ? 'retry_scheduled'
        : 'nothing_to_do';
    }
    if (!(await markFailed(trx, order.order_id, attempt.error))) return 'nothing_to_do';
    await appendToOutbox(trx, [
      createSagaEvent(FulfilmentEvents.failed, 'fulfilment', order, { reason: 'placement_failed' }),
    ]);
    return 'failed';
  });
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
