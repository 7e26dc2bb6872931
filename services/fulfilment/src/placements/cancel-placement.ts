import type { Transaction } from 'kysely';
import type { OrderSnapshot } from '@platform/contracts';
import { lockKey } from '@platform/postgres';
import type { FulfilmentDatabase } from '../database.js';
import type { PlacementOutcome } from './placement.js';
import { cancelPlacing, findPlacementStatus, insertCancelled } from './placements.repository.js';

/**
 * order.cancelled: stops a placement in progress. One that came before the payment leaves a mark, so the
 * payment's event then places nothing. A placed order stays placed: the partner has no cancel API.
 */
export async function cancelPlacement(
  trx: Transaction<FulfilmentDatabase>,
  order: OrderSnapshot,
): Promise<PlacementOutcome> {
  await lockKey(trx, order.order_id);
  const status = await findPlacementStatus(trx, order.order_id);
  if (status === undefined) {
    await insertCancelled(trx, order);
    return 'cancelled_before_payment';
  }
  if (status !== 'placing') return 'nothing_to_do';
  return (await cancelPlacing(trx, order.order_id)) ? 'cancelled' : 'nothing_to_do';
}
