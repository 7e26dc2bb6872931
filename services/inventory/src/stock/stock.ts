import type { OrderSnapshot } from '@platform/contracts';
import type { ReservedItem } from '../database.js';

/**
 * What each movement does to a product's counters. Every one moves quantity between counters and never
 * creates or destroys it: available + reserved + sold stays the initial stock (SPEC §4.4).
 */
export const STOCK_MOVEMENTS = {
  reserve: { available: -1, reserved: 1, sold: 0 },
  release: { available: 1, reserved: -1, sold: 0 },
  sell: { available: 0, reserved: -1, sold: 1 },
} as const;

/** What an order's event did to inventory; expected outcomes are values, not errors. */
export type ReservationOutcome =
  'reserved' | 'out_of_stock' | 'released' | 'sold' | 'cancelled_before_reservation' | 'nothing_to_do';

/** A product the order wants more of than is available. */
export interface Shortage {
  product_code: string;
  requested: number;
  available: number;
}

/** Quantities summed per product, in product order: one line per product whatever the order repeated. */
export function wantedItems(order: OrderSnapshot): ReservedItem[] {
  const wanted = new Map<string, number>();
  for (const item of order.items) {
    wanted.set(item.product_code, (wanted.get(item.product_code) ?? 0) + item.quantity);
  }
  return [...wanted]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([product_code, quantity]) => ({ product_code, quantity }));
}

/** The items that cannot be reserved from `available` (a product unknown to inventory has none). */
export function shortages(
  items: readonly ReservedItem[],
  available: ReadonlyMap<string, number>,
): Shortage[] {
  return items
    .map((item) => ({ ...item, available: available.get(item.product_code) ?? 0 }))
    .filter((item) => item.available < item.quantity)
    .map((item) => ({
      product_code: item.product_code,
      requested: item.quantity,
      available: item.available,
    }));
}
