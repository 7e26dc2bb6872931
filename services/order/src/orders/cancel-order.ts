import { appendToOutbox } from '@platform/outbox';
import type { Transact } from '@platform/service-host';
import type { OrderDatabase } from '../database.js';
import type { CancellationReason, Order } from './order.js';
import { orderCancelled } from './order.events.js';
import { cancelPendingOrder, findOrderById } from './orders.repository.js';

export type CancelOrderOutcome =
  { kind: 'cancelled'; order: Order } | { kind: 'already_final'; order: Order } | { kind: 'not_found' };

/** Cancels a PENDING order and announces it with `order.cancelled`, in one transaction. */
export async function cancelOrder(
  transact: Transact<OrderDatabase>,
  orderId: string,
  reason: CancellationReason,
): Promise<CancelOrderOutcome> {
  return transact(async (trx) => {
    const cancelled = await cancelPendingOrder(trx, orderId, reason);
    if (cancelled) {
      await appendToOutbox(trx, [orderCancelled(cancelled, reason)]);
      return { kind: 'cancelled', order: cancelled };
    }
    const order = await findOrderById(trx, orderId);
    return order ? { kind: 'already_final', order } : { kind: 'not_found' };
  });
}
