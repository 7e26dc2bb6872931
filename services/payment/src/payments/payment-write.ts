import type { DecidedPayment, PaymentWrite } from './payment.js';

/**
 * The columns a decision sets, as the payment has them: what a decision starts from and changes a few of
 * (every column is written back). Here, not in `payment.ts`, so that the charge and refund rules need
 * nothing of it at run time (it imports them).
 */
export const currentWrite = (payment: DecidedPayment['payment']): PaymentWrite => ({
  status: payment.status,
  cancel_requested: payment.cancel_requested,
  attempts: payment.attempts,
  refund_attempts: payment.refund_attempts,
  charge_id: payment.charge_id,
  refund_id: payment.refund_id,
  last_error: payment.last_error,
});

/** Taken now by this instance to give money back: due at once, its attempt counted. */
export const takenToGiveBack = (write: PaymentWrite): PaymentWrite => ({
  ...write,
  refund_attempts: write.refund_attempts + 1,
  dueInMs: 0,
  lease: 'take',
});
