import type { Transaction } from 'kysely';
import { appendToOutbox } from '@platform/outbox';
import type { OrderDatabase } from '../database.js';
import type { Order } from '../orders/order.js';
import { orderCancelled, orderCreated } from '../orders/order.events.js';
import type { EnrichmentOutcome, FinalVerdict } from './enrich-order.js';
import { cancelUnpricedOrders, markPriced } from './enrichment.repository.js';

/** An order's verdict to record. */
export interface VerdictToRecord {
  order: Order;
  verdict: FinalVerdict;
}

/**
 * Records the verdicts of several orders in one transaction (a group commit): priced orders with their
 * `order.created`, cancelled ones with their `order.cancelled`, each only if the order is still PENDING and
 * unpriced (an order leased twice, or cancelled meanwhile, is settled once). Two statements and the outbox.
 */
export async function recordVerdicts(
  trx: Transaction<OrderDatabase>,
  verdicts: readonly VerdictToRecord[],
): Promise<EnrichmentOutcome[]> {
  const priced = await markPriced(
    trx,
    verdicts.flatMap(({ order, verdict }) =>
      verdict.kind === 'priced' ? [{ id: order.id, ...verdict }] : [],
    ),
  );
  const cancelled = await cancelUnpricedOrders(
    trx,
    verdicts.flatMap(({ order, verdict }) =>
      verdict.kind === 'cancelled' ? [{ id: order.id, reason: verdict.reason }] : [],
    ),
  );
  const settled = new Map<string, Order>([...priced, ...cancelled].map((order) => [order.id, order]));
  await appendToOutbox(trx, [
    ...priced.map((order) => orderCreated(order)),
    ...cancelled.map((order) => orderCancelled(order, order.reason ?? 'dependency_unavailable')),
  ]);
  return verdicts.map(({ order, verdict }) => {
    if (!settled.has(order.id)) return 'already_settled';
    return verdict.kind === 'priced' ? 'priced' : verdict.reason;
  });
}
