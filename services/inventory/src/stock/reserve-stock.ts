import type { Transaction } from 'kysely';
import { createSagaEvent, InventoryEvents, type OrderSnapshot } from '@platform/contracts';
import { appendToOutbox } from '@platform/outbox';
import { lockKey } from '@platform/postgres';
import type { InventoryDatabase } from '../database.js';
import { findReservation, insertReservation } from './reservations.repository.js';
import { lockStock, moveStock } from './stock.repository.js';
import { shortages, STOCK_MOVEMENTS, wantedItems, type ReservationOutcome } from './stock.js';

/**
 * Reserves every item of a priced order or none (SPEC §2): reserved → `inventory.reserved`, otherwise
 * `inventory.unavailable` with what was missing. An order cancelled before this arrived is left alone.
 */
export async function reserveStock(
  trx: Transaction<InventoryDatabase>,
  order: OrderSnapshot,
): Promise<ReservationOutcome> {
  await lockKey(trx, order.order_id);
  if (await findReservation(trx, order.order_id)) return 'nothing_to_do';
  const items = wantedItems(order);
  const levels = await lockStock(
    trx,
    items.map((item) => item.product_code),
  );
  const missing = shortages(items, new Map(levels.map((level) => [level.product_code, level.available])));
  if (missing.length > 0) {
    await insertReservation(trx, order.order_id, 'rejected', items);
    await appendToOutbox(trx, [
      createSagaEvent(InventoryEvents.unavailable, 'inventory', order, { reason: 'out_of_stock', missing }),
    ]);
    return 'out_of_stock';
  }
  await moveStock(trx, STOCK_MOVEMENTS.reserve, items);
  await insertReservation(trx, order.order_id, 'reserved', items);
  await appendToOutbox(trx, [createSagaEvent(InventoryEvents.reserved, 'inventory', order)]);
  return 'reserved';
}
