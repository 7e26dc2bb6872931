import { appendToOutbox } from '@platform/outbox';
import type { Transact } from '@platform/service-host';
import type { OrderDatabase } from '../database.js';
import type { Order } from './order.js';
import { transition } from './order-state-machine.js';
import { lockOrders, saveTransitions } from './orders.repository.js';

export type CancelOrderOutcome =
  { kind: 'cancelled'; order: Order } | { kind: 'already_final'; order: Order } | { kind: 'not_found' };

/** The customer cancels a PENDING order: `order.cancelled` (reason `customer_request`), one transaction. */
export async function cancelOrder(
  transact: Transact<OrderDatabase>,
  orderId: string,
): Promise<CancelOrderOutcome> {
  return transact(async (trx) => {
    const order = (await lockOrders(trx, [orderId])).get(orderId);
    if (!order) return { kind: 'not_found' };
    const cancellation = transition(order, { kind: 'cancel_by_customer' });
    if (cancellation.decision.outcome !== 'cancelled') return { kind: 'already_final', order };
    await saveTransitions(trx, [cancellation]);
    await appendToOutbox(trx, cancellation.events);
    return { kind: 'cancelled', order: cancellation.after };
  });
}
