import type { Kysely, Transaction } from 'kysely';
import { createSagaEvent, PaymentEvents } from '@platform/contracts';
import { appendToOutbox } from '@platform/outbox';
import { lockKey } from '@platform/postgres';
import type { PaymentDatabase, PaymentStatus } from '../database.js';
import type { GatewayCharge, GatewayRefund } from './payment-gateway.client.js';
import type { LeasedPayment, Payment, PaymentOutcome } from './payment.js';
import { findPayment, updatePayment } from './payments.repository.js';

type Db = Kysely<PaymentDatabase>;
type Trx = Transaction<PaymentDatabase>;

const PRODUCER = 'payment';

/**
 * The gateway holds a charge for the order: it stands, or, if the order was cancelled meanwhile, it is
 * refunded (and never announced as processed).
 */
export async function recordCharge(db: Db, orderId: string, charge: GatewayCharge): Promise<PaymentOutcome> {
  return inLockedPayment(db, orderId, 'charging', async (trx, payment) => {
    if (payment.cancel_requested) {
      await updatePayment(
        trx,
        orderId,
        'charging',
        { status: 'refunding', charge_id: charge.charge_id, last_error: null },
        { nextAttemptInMs: 0, releaseLease: true },
      );
      return 'refund_requested';
    }
    await updatePayment(
      trx,
      orderId,
      'charging',
      { status: 'charged', charge_id: charge.charge_id, last_error: null },
      { releaseLease: true },
    );
    await appendToOutbox(trx, [
      createSagaEvent(PaymentEvents.processed, PRODUCER, payment.order_snapshot, {
        charge: { charge_id: charge.charge_id, amount: charge.amount },
      }),
    ]);
    return 'charged';
  });
}

/** The gateway gave no charge after every attempt: the payment fails (announced unless already cancelled). */
export async function failPayment(db: Db, orderId: string, error: string): Promise<PaymentOutcome> {
  return inLockedPayment(db, orderId, 'charging', async (trx, payment) => {
    await updatePayment(
      trx,
      orderId,
      'charging',
      { status: 'failed', last_error: error },
      { releaseLease: true },
    );
    if (!payment.cancel_requested) {
      await appendToOutbox(trx, [
        createSagaEvent(PaymentEvents.failed, PRODUCER, payment.order_snapshot, { reason: 'payment_failed' }),
      ]);
    }
    return 'failed';
  });
}

/** A cancelled order the gateway never charged: nothing more to do. */
export async function cancelCharge(db: Db, orderId: string): Promise<PaymentOutcome> {
  return inLockedPayment(db, orderId, 'charging', async (trx) => {
    await updatePayment(trx, orderId, 'charging', { status: 'cancelled' }, { releaseLease: true });
    return 'cancelled';
  });
}

/** The gateway refunded the order's charge. */
export async function recordRefund(db: Db, orderId: string, refund: GatewayRefund): Promise<PaymentOutcome> {
  return inLockedPayment(db, orderId, 'refunding', async (trx, payment) => {
    await updatePayment(
      trx,
      orderId,
      'refunding',
      { status: 'refunded', refund_id: refund.refund_id, last_error: null },
      { releaseLease: true },
    );
    await appendToOutbox(trx, [
      createSagaEvent(PaymentEvents.refunded, PRODUCER, payment.order_snapshot, {
        refund: { refund_id: refund.refund_id, amount: refund.amount },
      }),
    ]);
    return 'refunded';
  });
}

/**
 * A step got no usable answer from the gateway: the error is kept, the lease released, and the payment
 * is due again in `retryInMs`.
 *
 * One exception: when the order was cancelled while this step was charging it, the payment is due at once,
 * so that the next step settles the cancellation instead of waiting out a charge retry. Not when the step
 * was itself settling a cancellation: being due at once, it would be leased straight back, and a gateway
 * that cannot be reached would be asked again and again without pause.
 */
export async function scheduleRetry(
  db: Db,
  leased: LeasedPayment,
  error: string,
  retryInMs: number,
): Promise<PaymentOutcome> {
  const { order_id: orderId, status } = leased;
  return inLockedPayment(db, orderId, status, async (trx, payment) => {
    // `leased` is the payment as this step found it, `payment` as it is now.
    const cancelledDuringCharge =
      status === 'charging' && !leased.cancel_requested && payment.cancel_requested;
    await updatePayment(
      trx,
      orderId,
      status,
      { last_error: error },
      { nextAttemptInMs: cancelledDuringCharge ? 0 : retryInMs, releaseLease: true },
    );
    return 'retry_scheduled';
  });
}

/**
 * Runs `change` in a transaction holding the order's lock, if the payment is still in `status`; a result
 * that finds it moved on (a second worker after an expired lease) changes nothing.
 */
async function inLockedPayment(
  db: Db,
  orderId: string,
  status: PaymentStatus,
  change: (trx: Trx, payment: Payment) => Promise<PaymentOutcome>,
): Promise<PaymentOutcome> {
  return db.transaction().execute(async (trx) => {
    await lockKey(trx, orderId);
    const payment = await findPayment(trx, orderId);
    if (payment?.status !== status) return 'nothing_to_do';
    return change(trx, payment);
  });
}
