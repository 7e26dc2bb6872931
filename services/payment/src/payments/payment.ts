import type { Selectable } from 'kysely';
import type { PaymentsTable } from '../database.js';

/** An order's payment as stored: one row per order, whatever arrives twice. */
export type Payment = Selectable<PaymentsTable>;

/** What the worker needs of a payment it leased. */
export type LeasedPayment = Pick<Payment, 'order_id' | 'status' | 'amount' | 'cancel_requested'>;

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
export const WORK_CREATED: ReadonlySet<PaymentOutcome> = new Set<PaymentOutcome>([
  'charge_requested',
  'cancel_requested',
  'refund_requested',
]);
