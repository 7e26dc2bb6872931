import type { Transaction } from 'kysely';
import type { OrderSnapshot } from '@platform/contracts';
import { lockKey } from '@platform/postgres';
import type { FulfilmentDatabase } from '../database.js';
import type { PlacementOutcome } from './placement.js';
import { findPlacementStatus, insertPlacing } from './placements.repository.js';

/**
 * payment.processed: starts placing the order, given up `deadlineMs` from now. Any existing row (an
 * earlier copy of the event, or a cancellation that overtook it) means there is nothing to start.
 */
export async function startPlacement(
  trx: Transaction<FulfilmentDatabase>,
  order: OrderSnapshot,
  deadlineMs: number,
): Promise<PlacementOutcome> {
  await lockKey(trx, order.order_id);
  if (await findPlacementStatus(trx, order.order_id)) return 'nothing_to_do';
  await insertPlacing(trx, order, deadlineMs);
  return 'placing';
}
