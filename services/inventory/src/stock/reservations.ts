import type { Transaction } from 'kysely';
import { createSagaEvent, InventoryEvents, type OrderSnapshot } from '@platform/contracts';
import { appendToOutbox } from '@platform/outbox';
import type { InventoryDatabase, ReservedItem } from '../database.js';
import {
  findReservation,
  insertReservation,
  lockOrder,
  lockStock,
  moveStock,
  setReservationStatus,
} from './stock.repository.js';

type Trx = Transaction<InventoryDatabase>;

/** What inventory did with an order's event; expected outcomes are values, not errors. */
export type ReservationOutcome =
  'reserved' | 'out_of_stock' | 'released' | 'sold' | 'cancelled_before_reservation' | 'nothing_to_do';

/** Quantities summed per product, in product order: one line per product whatever the order repeated. */
export function wantedItems(order: OrderSnapshot): ReservedItem[] {
  const wanted = new Map<string, number>();
  for (const item of order.items)
    wanted.set(item.product_code, (wanted.get(item.product_code) ?? 0) + item.quantity);
  return [...wanted]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([product_code, quantity]) => ({ product_code, quantity }));
}

/**
 * Reserves every item of a priced order or none (SPEC §2): reserved → `inventory.reserved`, otherwise
 * `inventory.unavailable` with what was missing. An order cancelled before this arrived is left alone.
 */
export async function reserveStock(trx: Trx, order: OrderSnapshot): Promise<ReservationOutcome> {
  await lockOrder(trx, order.order_id);
  if (await findReservation(trx, order.order_id)) return 'nothing_to_do';
  const items = wantedItems(order);
  const levels = new Map(
    (
      await lockStock(
        trx,
        items.map((i) => i.product_code),
      )
    ).map((s) => [s.product_code, s]),
  );
  const missing = items
    .map((item) => ({ ...item, available: levels.get(item.product_code)?.available ?? 0 }))
    .filter((item) => item.available < item.quantity)
    .map((item) => ({
      product_code: item.product_code,
      requested: item.quantity,
      available: item.available,
    }));
  if (missing.length > 0) {
    await insertReservation(trx, order.order_id, 'rejected', items);
    await appendToOutbox(trx, [
      createSagaEvent(InventoryEvents.unavailable, 'inventory', order, { reason: 'out_of_stock', missing }),
    ]);
    return 'out_of_stock';
  }
  await moveStock(trx, 'reserve', items);
  await insertReservation(trx, order.order_id, 'reserved', items);
  await appendToOutbox(trx, [createSagaEvent(InventoryEvents.reserved, 'inventory', order)]);
  return 'reserved';
}

/** Compensation: a cancelled order's reservation goes back to available. */
export async function releaseStock(trx: Trx, order: OrderSnapshot): Promise<ReservationOutcome> {
  await lockOrder(trx, order.order_id);
  const reservation = await findReservation(trx, order.order_id);
  if (!reservation) {
    // The cancellation overtook order.created: remember it, so that order.created reserves nothing.
    await insertReservation(trx, order.order_id, 'cancelled', wantedItems(order));
    return 'cancelled_before_reservation';
  }
  if (reservation.status !== 'reserved') return 'nothing_to_do';
  await moveStock(trx, 'release', reservation.items);
  await setReservationStatus(trx, order.order_id, 'released');
  return 'released';
}

/** A completed order's reservation becomes sold. */
export async function sellStock(trx: Trx, order: OrderSnapshot): Promise<ReservationOutcome> {
  await lockOrder(trx, order.order_id);
  const reservation = await findReservation(trx, order.order_id);
  if (reservation?.status !== 'reserved') return 'nothing_to_do';
  await moveStock(trx, 'sell', reservation.items);
  await setReservationStatus(trx, order.order_id, 'sold');
  return 'sold';
}
