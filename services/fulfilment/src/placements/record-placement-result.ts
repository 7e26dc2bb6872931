import type { Kysely, Transaction } from 'kysely';
import { createSagaEvent, FulfilmentEvents, type OrderSnapshot } from '@platform/contracts';
import { appendToOutbox } from '@platform/outbox';
import { lockKey } from '@platform/postgres';
import type { FulfilmentDatabase } from '../database.js';
import type { PlacementOutcome } from './placement.js';
import { markFailed, markPlaced, markRetryDue, recordLatePlacement } from './placements.repository.js';

type Db = Kysely<FulfilmentDatabase>;
type Trx = Transaction<FulfilmentDatabase>;

const PRODUCER = 'fulfilment';

/**
 * The partner holds the order: it is placed and announced, or, if the order was cancelled meanwhile, only
 * the partner's reference is kept (the partner has no cancel API).
 */
export async function recordPlacement(
  db: Db,
  order: OrderSnapshot,
  placementId: string,
): Promise<PlacementOutcome> {
  return inLockedOrder(db, order.order_id, async (trx) => {
    if (await markPlaced(trx, order.order_id, placementId)) {
      await appendToOutbox(trx, [
        createSagaEvent(FulfilmentEvents.placed, PRODUCER, order, {
          placement: { placement_id: placementId },
        }),
      ]);
      return 'placed';
    }
    return (await recordLatePlacement(trx, order.order_id, placementId))
      ? 'placed_after_cancellation'
      : 'nothing_to_do';
  });
}

/** An attempt that failed for now: the placement is due again in `delayMs`. */
export async function scheduleRetry(
  db: Db,
  orderId: string,
  error: string,
  delayMs: number,
): Promise<PlacementOutcome> {
  return inLockedOrder(db, orderId, async (trx) =>
    (await markRetryDue(trx, orderId, error, delayMs)) ? 'retry_scheduled' : 'nothing_to_do',
  );
}

/** The placement is given up: it fails and is announced with reason `placement_failed`. */
export async function failPlacement(db: Db, order: OrderSnapshot, error: string): Promise<PlacementOutcome> {
  return inLockedOrder(db, order.order_id, async (trx) => {
    if (!(await markFailed(trx, order.order_id, error))) return 'nothing_to_do';
    await appendToOutbox(trx, [
      createSagaEvent(FulfilmentEvents.failed, PRODUCER, order, { reason: 'placement_failed' }),
    ]);
    return 'failed';
  });
}

/**
 * Runs `record` in a transaction holding the order's lock. Every write it makes is guarded by the row
 * still being 'placing', so a cancellation meanwhile (or a second worker after an expired lease) leaves
 * one outcome and one event.
 */
async function inLockedOrder(
  db: Db,
  orderId: string,
  record: (trx: Trx) => Promise<PlacementOutcome>,
): Promise<PlacementOutcome> {
  return db.transaction().execute(async (trx) => {
    await lockKey(trx, orderId);
    return record(trx);
  });
}
