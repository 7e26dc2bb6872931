import { appendToOutbox } from '@platform/outbox';
import type { Transact } from '@platform/service-host';
import type { OrderDatabase } from '../database.js';
import type { Order } from './order.js';
import type { OrderMetrics } from './order.metrics.js';
import { transition } from './order-state-machine.js';
import { lockOrders, saveTransitions } from './orders.repository.js';

export type CancelOrderOutcome =
  { kind: 'cancelled'; order: Order } | { kind: 'already_final'; order: Order } | { kind: 'not_found' };

/** The customer cancels a PENDING order: `order.cancelled` (reason `customer_request`), one transaction. */
export async function cancelOrder(
  transact: Transact<OrderDatabase>,
  orderId: string,
  metrics?: OrderMetrics,
): Promise<CancelOrderOutcome> {
  const outcome = await transact(async (trx) => {
    const order = (await lockOrders(trx, [orderId])).get(orderId);
    if (!order) return { kind: 'not_found' } as const;
    const cancellation = transition(order, { kind: 'cancel_by_customer' });
    if (cancellation.decision.outcome !== 'cancelled') return { kind: 'already_final', order } as const;
    await saveTransitions(trx, [cancellation]);
    await appendToOutbox(trx, cancellation.events);
    return { kind: 'cancelled', order: cancellation.after, cancellation } as const;
  });
  if (outcome.kind !== 'cancelled') return outcome;
  metrics?.observe([outcome.cancellation]);
  return { kind: 'cancelled', order: outcome.order };
}
