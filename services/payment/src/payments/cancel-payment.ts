import type { Transaction } from 'kysely';
import type { OrderSnapshot } from '@platform/contracts';
import { lockKey } from '@platform/postgres';
import type { PaymentDatabase } from '../database.js';
import type { PaymentOutcome } from './payment.js';
import { findPayment, insertPayment, updatePayment } from './payments.repository.js';

/**
 * order.cancelled: nothing charged yet stays uncharged, a charge is refunded. A charge in flight is only
 * flagged: the worker that made the call decides once it knows whether the gateway charged.
 */
export async function cancelPayment(
  trx: Transaction<PaymentDatabase>,
  order: OrderSnapshot,
): Promise<PaymentOutcome> {
  await lockKey(trx, order.order_id);
  const payment = await findPayment(trx, order.order_id);
  if (!payment) {
    // The cancellation overtook inventory.reserved: remember it, so that the charge request does nothing.
    await insertPayment(trx, { order, status: 'cancelled', amount: null });
    return 'cancelled_before_charge';
  }
  const { order_id } = payment;
  if (payment.status === 'charging' && !payment.cancel_requested) {
    // Due at once: a payment waiting for its next attempt is settled now rather than charged later.
    await updatePayment(trx, order_id, 'charging', { cancel_requested: true }, { nextAttemptInMs: 0 });
    return 'cancel_requested';
  }
  if (payment.status === 'charged') {
    await updatePayment(
      trx,
      order_id,
      'charged',
      { status: 'refunding', cancel_requested: true },
      { nextAttemptInMs: 0 },
    );
    return 'refund_requested';
  }
  return 'nothing_to_do';
}
