import type { Kysely, Transaction } from 'kysely';
import { createSagaEvent, PaymentEvents, type OrderSnapshot } from '@platform/contracts';
import { appendToOutbox } from '@platform/outbox';
import type { PaymentDatabase, PaymentStatus } from '../database.js';
import type { GatewayCharge, GatewayRefund } from './payment-gateway.client.js';
import {
  findPayment,
  insertPayment,
  lockOrder,
  updatePayment,
  type LeasedPayment,
  type Payment,
} from './payments.repository.js';

type Db = Kysely<PaymentDatabase>;
type Trx = Transaction<PaymentDatabase>;

/** What came of an event or of a gateway answer; expected outcomes are values, not errors. */
export type PaymentOutcome =
  | 'charge_requested'
  | 'cancelled_before_charge'
  | 'cancel_requested'
  | 'refund_requested'
  | 'charged'
  | 'retry_scheduled'
  | 'failed'
  | 'refunded'
  | 'cancelled'
  | 'nothing_to_do';

/** Outcomes after which the worker has something to do at once. */
export const WORK_CREATED: ReadonlySet<string> = new Set<PaymentOutcome>([
  'charge_requested',
  'cancel_requested',
  'refund_requested',
]);

const PRODUCER = 'payment';

/**
 * inventory.reserved: the order is to be charged its total. Any existing row wins, whether a duplicate or
 * a cancellation that came first (its tombstone): an order is charged at most once, and never once cancelled.
 */
export async function requestCharge(trx: Trx, order: OrderSnapshot): Promise<PaymentOutcome> {
  await lockOrder(trx, order.order_id);
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

/**
 * order.cancelled: nothing charged yet stays uncharged, a charge is refunded. A charge in flight is only
 * flagged: the worker that made the call decides once it knows whether the gateway charged.
 */
export async function cancelPayment(trx: Trx, order: OrderSnapshot): Promise<PaymentOutcome> {
  await lockOrder(trx, order.order_id);
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
 * A gateway call for a leased payment gave no usable answer: it is tried again after `retryInMs`. A
 * cancellation that came during a charge call is settled at once instead of waiting for a charge retry.
 * Only then: when the step was already the settling of a cancellation, settling at once would lease it
 * straight back, and a gateway that cannot be reached would be asked again and again without pause.
 */
export async function scheduleRetry(
  db: Db,
  leased: LeasedPayment,
  error: string,
  retryInMs: number,
): Promise<PaymentOutcome> {
  const { order_id: orderId, status } = leased;
  return inLockedPayment(db, orderId, status, async (trx, payment) => {
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
    await lockOrder(trx, orderId);
    const payment = await findPayment(trx, orderId);
    if (payment?.status !== status) return 'nothing_to_do';
    return change(trx, payment);
  });
}
