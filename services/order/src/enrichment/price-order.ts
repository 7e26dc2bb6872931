import type { Order, OrderItem, PricingRejection } from '../orders/order.js';
import type { Lookup } from './guarded-calls.js';
import type { Product, User } from './third-parties.client.js';

/** What the third parties said about an order, as far as they answered. */
export interface Answers {
  user: Lookup<User>;
  products: Map<string, Lookup<Product>>;
}

/** The verdict on an order once its lookups are in: priced, cancelled, or not decidable yet. */
export type PricingVerdict =
  | { kind: 'priced'; customerFullname: string; items: OrderItem[]; totalAmount: number }
  | { kind: 'cancelled'; reason: PricingRejection }
  | { kind: 'undecided'; unavailable: string[] };

/**
 * Prices an order from the answers: a missing user or product cancels it whatever else is pending, a
 * client-sent total must match to the cent, and anything unanswered leaves it undecided (to retry).
 */
export function priceOrder(order: Order, answers: Answers): PricingVerdict {
  if (answers.user.kind === 'not_found') return { kind: 'cancelled', reason: 'user_not_found' };
  const lookups = order.items.map((item) => answers.products.get(item.product_code));
  if (lookups.some((lookup) => lookup?.kind === 'not_found'))
    return { kind: 'cancelled', reason: 'product_not_found' };

  const unavailable = [
    ...(answers.user.kind === 'found' ? [] : [`user ${order.user_id}`]),
    ...order.items
      .filter((_, i) => lookups[i]?.kind !== 'found')
      .map((item) => `product ${item.product_code}`),
  ];
  if (answers.user.kind !== 'found' || unavailable.length > 0) return { kind: 'undecided', unavailable };

  const items = order.items.map((item, i) => {
    const product = (lookups[i] as { value: Product }).value;
    return { ...item, product_name: product.name, unit_price: product.price };
  });
  // Cents as integers: 0.1 + 0.2 must not make a correct client total look wrong.
  const totalCents = items.reduce((sum, item) => sum + Math.round(item.unit_price * 100) * item.quantity, 0);
  if (
    order.requested_total_amount !== null &&
    Math.round(order.requested_total_amount * 100) !== totalCents
  ) {
    return { kind: 'cancelled', reason: 'total_mismatch' };
  }
  const { firstName, lastName } = answers.user.value;
  return {
    kind: 'priced',
    customerFullname: `${firstName} ${lastName}`,
    items,
    totalAmount: totalCents / 100,
  };
}
