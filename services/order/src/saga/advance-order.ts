import type { Transaction } from 'kysely';
import { appendToOutbox } from '@platform/outbox';
import type { OrderDatabase } from '../database.js';
import type { CancellationReason } from '../orders/order.js';
import { orderCancelled, orderCompleted } from '../orders/order.events.js';
import { cancelPendingOrder } from '../orders/orders.repository.js';
import { appendTimelineStep, completePendingOrder, lockOrderStatus } from './saga.repository.js';

type Trx = Transaction<OrderDatabase>;

/** What a saga event did to its order. */
export type AdvanceOutcome = 'recorded' | 'completed' | 'cancelled' | 'after_final' | 'unknown_order';

/**
 * Records a step that moves nothing (stock reserved, paid, refunded). On an order already final it is
 * marked as such: the service that reported it compensates by itself, on the order.cancelled it received.
 */
export async function recordStep(trx: Trx, orderId: string, step: string): Promise<AdvanceOutcome> {
  const status = await lockOrderStatus(trx, orderId);
  if (!status) return 'unknown_order';
  // A refund follows a cancellation by design; every other step after a final state is late.
  const afterFinal = status !== 'PENDING' && step !== 'refunded';
  await appendTimelineStep(trx, orderId, step, { afterFinal });
  return afterFinal ? 'after_final' : 'recorded';
}

/** The partner accepted the order: COMPLETED, and `order.completed` (stock sold, customer told). */
export async function completeOrder(trx: Trx, orderId: string): Promise<AdvanceOutcome> {
  const status = await lockOrderStatus(trx, orderId);
  if (!status) return 'unknown_order';
  if (status !== 'PENDING') return markAfterFinal(trx, orderId, 'fulfilment_placed');
  await appendTimelineStep(trx, orderId, 'fulfilment_placed');
  const completed = await completePendingOrder(trx, orderId);
  if (!completed) throw new Error(`order ${orderId} left PENDING while locked`);
  await appendToOutbox(trx, [orderCompleted(completed)]);
  return 'completed';
}

/** A step failed for good: CANCELLED with its reason, and `order.cancelled` starts the compensations. */
export async function cancelForReason(
  trx: Trx,
  orderId: string,
  step: string,
  reason: CancellationReason,
): Promise<AdvanceOutcome> {
  const status = await lockOrderStatus(trx, orderId);
  if (!status) return 'unknown_order';
  if (status !== 'PENDING') return markAfterFinal(trx, orderId, step);
  const cancelled = await cancelPendingOrder(trx, orderId, reason);
  if (!cancelled) throw new Error(`order ${orderId} left PENDING while locked`);
  await appendToOutbox(trx, [orderCancelled(cancelled, reason)]);
  return 'cancelled';
}

async function markAfterFinal(trx: Trx, orderId: string, step: string): Promise<AdvanceOutcome> {
  await appendTimelineStep(trx, orderId, step, { afterFinal: true });
  return 'after_final';
}
