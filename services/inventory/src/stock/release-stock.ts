import type { Transaction } from 'kysely';
import type { OrderSnapshot } from '@platform/contracts';
import { lockKey } from '@platform/postgres';
import type { InventoryDatabase } from '../database.js';
import { findReservation, insertReservation, setReservationStatus } from './reservations.repository.js';
import { moveStock } from './stock.repository.js';
import { STOCK_MOVEMENTS, wantedItems, type ReservationOutcome } from './stock.js';

/** Compensation: a cancelled order's reservation goes back to available. */
export async function releaseStock(
  trx: Transaction<InventoryDatabase>,
  order: OrderSnapshot,
): Promise<ReservationOutcome> {
  await lockKey(trx, order.order_id);
  const reservation = await findReservation(trx, order.order_id);
  if (!reservation) {
    // The cancellation overtook order.created: remember it, so that order.created reserves nothing.
    await insertReservation(trx, order.order_id, 'cancelled', wantedItems(order));
    return 'cancelled_before_reservation';
  }
  if (reservation.status !== 'reserved') return 'nothing_to_do';
  await moveStock(trx, STOCK_MOVEMENTS.release, reservation.items);
  await setReservationStatus(trx, order.order_id, 'released');
  return 'released';
}
