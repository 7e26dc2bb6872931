import type { Transaction } from 'kysely';
import type { OrderSnapshot } from '@platform/contracts';
import { lockKey } from '@platform/postgres';
import type { InventoryDatabase } from '../database.js';
import { findReservation, setReservationStatus } from './reservations.repository.js';
import { moveStock } from './stock.repository.js';
import { STOCK_MOVEMENTS, type ReservationOutcome } from './stock.js';

/** A completed order's reservation becomes sold. */
export async function sellStock(
  trx: Transaction<InventoryDatabase>,
  order: OrderSnapshot,
): Promise<ReservationOutcome> {
  await lockKey(trx, order.order_id);
  const reservation = await findReservation(trx, order.order_id);
  if (reservation?.status !== 'reserved') return 'nothing_to_do';
  await moveStock(trx, STOCK_MOVEMENTS.sell, reservation.items);
  await setReservationStatus(trx, order.order_id, 'sold');
  return 'sold';
}
