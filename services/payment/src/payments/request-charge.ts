import type { Transaction } from 'kysely';
import type { OrderSnapshot } from '@platform/contracts';
import { lockKey } from '@platform/postgres';
import type { PaymentDatabase } from '../database.js';
import type { PaymentOutcome } from './payment.js';
import { findPayment, insertPayment } from './payments.repository.js';

/**
 * inventory.reserved: the order is to be charged its total. Any existing row wins, whether a duplicate or
 * a cancellation that came first (its tombstone): an order is charged at most once, and never once cancelled.
 */
export async function requestCharge(
  trx: Transaction<PaymentDatabase>,
  order: OrderSnapshot,
): Promise<PaymentOutcome> {
  await lockKey(trx, order.order_id);
  if (await findPayment(trx, order.order_id)) return 'nothing_to_do';
  const amount = order.total_amount;
  // Inventory only reserves priced orders: a missing total is a bug upstream, to be dead-lettered, not
  // guessed at.
  if (amount === null || !Number.isFinite(amount) || amount <= 0) {
    throw new Error(`order ${order.order_id} has no positive total_amount to charge (${String(amount)})`);
  }
  await insertPayment(trx, { order, status: 'charging', amount });
  return 'charge_requested';
}
