import { sql, type Selectable, type Transaction } from 'kysely';
import type { InventoryDatabase, ReservationStatus, ReservationsTable, ReservedItem } from '../database.js';

type Trx = Transaction<InventoryDatabase>;

/** What inventory decided for an order, if it decided anything yet. */
export async function findReservation(
  trx: Trx,
  orderId: string,
): Promise<Selectable<ReservationsTable> | undefined> {
  return trx.selectFrom('reservations').selectAll().where('order_id', '=', orderId).executeTakeFirst();
}

export async function insertReservation(
  trx: Trx,
  orderId: string,
  status: ReservationStatus,
  items: readonly ReservedItem[],
): Promise<void> {
  await trx
    .insertInto('reservations')
    .values({ order_id: orderId, status, items: JSON.stringify(items) })
    .execute();
}

export async function setReservationStatus(
  trx: Trx,
  orderId: string,
  status: ReservationStatus,
): Promise<void> {
  await trx
    .updateTable('reservations')
    .set({ status, updated_at: sql<Date>`now()` })
    .where('order_id', '=', orderId)
    .execute();
}
