import { createEvent, PaymentEvents, type OrderSnapshot } from '@platform/contracts';
import type { DecidedPayment, GatewayResult, PaymentDecision, PaymentWrite } from './payment.js';
import { currentWrite, takenToGiveBack } from './payment-write.js';

// The refund rules: where an order's money is given back. A cancellation refunds a charge (or stops one
// from being made), and the gateway's refund is recorded and announced here; the one other way in is a
// charge the gateway made after the cancellation (charge.ts, through `takenToGiveBack`).

const PRODUCER = 'payment';

/**
 * order.cancelled: nothing charged yet stays uncharged, a charge is refunded. A charge in flight (its
 * lease runs) is only flagged: the worker that made the call decides once it knows whether the gateway
 * charged. One waiting for its next attempt is settled now rather than charged later.
 */
export function cancelPayment(order: OrderSnapshot, state: DecidedPayment | undefined): PaymentDecision {
  if (!state) {
    // The cancellation overtook inventory.reserved: remember it, so that the charge request does nothing.
    const write: PaymentWrite = {
      status: 'cancelled',
      cancel_requested: false,
      attempts: 0,
      refund_attempts: 0,
      charge_id: null,
      refund_id: null,
      last_error: null,
    };
    return {
      outcome: 'cancelled_before_charge',
      change: { kind: 'insert', order, amount: null, steps: [], write },
    };
  }
  const { payment, leased } = state;
  if (payment.status === 'charging' && !payment.cancel_requested) {
    const flagged = { ...currentWrite(payment), cancel_requested: true, dueInMs: 0 };
    return {
      outcome: 'cancel_requested',
      change: { kind: 'update', write: leased ? flagged : takenToGiveBack(flagged) },
    };
  }
  if (payment.status === 'charged') {
    const write = takenToGiveBack({ ...currentWrite(payment), status: 'refunding', cancel_requested: true });
    return { outcome: 'refund_requested', change: { kind: 'update', write } };
  }
  return { outcome: 'nothing_to_do' };
}

/** The gateway's answer to a refund that gave the money back. */
export type RefundResult = Extract<GatewayResult, { kind: 'refunded' }>;

/**
 * A refund the gateway made, recorded and announced, against a payment still being refunded (any other
 * changes nothing).
 */
export function recordRefundResult(
  payment: DecidedPayment['payment'],
  result: RefundResult,
): PaymentDecision {
  if (payment.status !== 'refunding') return { outcome: 'nothing_to_do' };
  return {
    outcome: 'refunded',
    change: {
      kind: 'update',
      write: {
        ...currentWrite(payment),
        status: 'refunded',
        refund_id: result.refund.refund_id,
        last_error: null,
        lease: 'release',
      },
    },
    event: createEvent(PaymentEvents.refunded, PRODUCER, {
      order: payment.order_snapshot,
      refund: { refund_id: result.refund.refund_id, amount: result.refund.amount },
    }),
  };
}
