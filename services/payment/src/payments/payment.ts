import type { Selectable } from 'kysely';
import type { Decider, EventEnvelope, OrderSnapshot, SagaStepRecord } from '@platform/contracts';
import type { PaymentsTable } from '../database.js';
import { recordChargeResult, requestCharge } from './charge.js';
import type { GatewayCharge, GatewayRefund } from './payment-gateway.client.js';
import { currentWrite, takenToGiveBack } from './payment-write.js';
import { cancelPayment, recordRefundResult } from './refund.js';

// The payment's model and its decider. Its rules are in files of their own: charge.ts (when an order is
// charged, what a charge comes to) and refund.ts (where an order's money is given back).
export { recordChargeResult, requestCharge, type ChargeResult } from './charge.js';
export { cancelPayment, recordRefundResult, type RefundResult } from './refund.js';

/**
 * Where an order's payment stands. `charging` and `refunding` are the worker's to-do list; `cancelled`
 * means nothing was (or will be) charged: a cancellation came first, or before the charge went through.
 */
export type PaymentStatus = 'charging' | 'charged' | 'failed' | 'refunding' | 'refunded' | 'cancelled';

/** An order's payment as stored: one row per order, whatever arrives twice. */
export type Payment = Selectable<PaymentsTable>;

/** The columns the database stamps (its clock, the trace): no decision reads or sets them. */
type StampedColumn = 'next_attempt_at' | 'lease_until' | 'trace_context' | 'created_at' | 'updated_at';

/**
 * A payment as its rules read it and its decider evolves it: the row but for the columns the database
 * stamps, and whether a worker's lease on it still runs.
 */
export interface DecidedPayment {
  payment: Omit<Payment, StampedColumn>;
  leased: boolean;
}

/** A payment as the use cases decide on it: the row, and whether a worker's lease on it still runs. */
export interface PaymentState extends DecidedPayment {
  payment: Payment;
}

/**
 * What a worker needs of a payment it holds. Attempts are counted when a payment is leased, before the
 * gateway is called, so that a call that crashes its worker still counts.
 */
export type LeasedPayment = Pick<
  Payment,
  'order_id' | 'status' | 'amount' | 'cancel_requested' | 'attempts' | 'refund_attempts' | 'trace_context'
>;

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

/** The columns of a payment a decision sets, and what happens to its schedule and lease. */
export interface PaymentWrite {
  status: PaymentStatus;
  cancel_requested: boolean;
  attempts: number;
  refund_attempts: number;
  charge_id: string | null;
  refund_id: string | null;
  last_error: string | null;
  /** When the worker should look at it next, in ms from now; absent keeps the time it had. */
  dueInMs?: number;
  /**
   * `take`: this instance leases it now and hands it to its worker once the transaction committed;
   * `release`: the worker that held it is done with it; absent: as it was.
   */
  lease?: 'take' | 'release';
}

/** A payment's new state, written by the use case: a new row (with its amount and order) or a change. */
export type PaymentChange =
  | {
      kind: 'insert';
      order: OrderSnapshot;
      amount: number | null;
      /** The saga's steps before the charge, passed on with its own. */
      steps: SagaStepRecord[];
      write: PaymentWrite;
    }
  | { kind: 'update'; write: PaymentWrite };

/** What one event or one gateway result decides for a payment. */
export interface PaymentDecision {
  outcome: PaymentOutcome;
  change?: PaymentChange;
  event?: EventEnvelope;
}

/** The gateway step a leased payment is due for. Pure. */
export function stepOf(payment: LeasedPayment): 'refund' | 'settle_cancelled' | 'charge' {
  if (payment.status === 'refunding') return 'refund';
  return payment.cancel_requested ? 'settle_cancelled' : 'charge';
}

/** How a worker's gateway step ended, to be recorded against the payment it leased. */
export type GatewayResult =
  | { kind: 'charged'; charge: GatewayCharge }
  | { kind: 'failed'; error: string }
  | { kind: 'not_charged' }
  | { kind: 'refunded'; refund: GatewayRefund }
  | { kind: 'retry'; error: string; retryInMs: number };

/** The worker's view of a payment after `write`. */
export function leasedAfter(
  payment: Pick<Payment, 'order_id' | 'amount' | 'trace_context'>,
  write: PaymentWrite,
): LeasedPayment {
  return {
    order_id: payment.order_id,
    trace_context: payment.trace_context,
    status: write.status,
    amount: payment.amount,
    cancel_requested: write.cancel_requested,
    attempts: write.attempts,
    refund_attempts: write.refund_attempts,
  };
}

/**
 * Records what a worker's gateway step came to, if the payment is still as the worker leased it (a
 * second worker after an expired lease finds it moved on and changes nothing):
 * - a charge stands and is announced, or, if the order was cancelled meanwhile, is refunded (never
 *   announced as processed); no charge after every attempt fails the payment (announced unless the order
 *   was cancelled); a cancelled order the gateway never charged is done (`recordChargeResult`);
 * - a refund is recorded and announced (`recordRefundResult`);
 * - no usable answer makes it due again after the backoff, or at once when the order was cancelled while
 *   it was being charged, so that the next step settles the cancellation instead of waiting out a charge
 *   retry (not when the step was itself settling: a gateway that cannot be reached would be asked again
 *   and again without pause).
 * The events that go on in the saga carry its steps so far and this one (`paid`, `payment_failed`), at
 * `at` (ISO 8601: when the result is recorded).
 */
export function recordGatewayResult(
  leased: LeasedPayment,
  state: DecidedPayment | undefined,
  result: GatewayResult,
  at: string,
): PaymentDecision {
  const payment = state?.payment;
  if (payment?.status !== leased.status) return { outcome: 'nothing_to_do' };
  switch (result.kind) {
    case 'charged':
    case 'failed':
    case 'not_charged':
      return recordChargeResult(payment, result, at);
    case 'refunded':
      return recordRefundResult(payment, result);
    case 'retry': {
      const cancelledDuringCharge =
        leased.status === 'charging' && !leased.cancel_requested && payment.cancel_requested;
      const failed = { ...currentWrite(payment), last_error: result.error };
      return {
        outcome: 'retry_scheduled',
        change: {
          kind: 'update',
          write: cancelledDuringCharge
            ? takenToGiveBack(failed)
            : { ...failed, dueInMs: result.retryInMs, lease: 'release' },
        },
      };
    }
  }
}

/** An event, or what the gateway said to a worker's step, as the payment rules act on it. */
export type PaymentInput =
  /** inventory.reserved: charge the order its total. */
  | { kind: 'request_charge'; order: OrderSnapshot; steps?: SagaStepRecord[] }
  /** order.cancelled. */
  | { kind: 'cancel'; order: OrderSnapshot }
  /** A worker's gateway step, recorded at `at` (ISO 8601). */
  | { kind: 'gateway_result'; leased: LeasedPayment; result: GatewayResult; at: string };

/** What the payment decider decides: the outcome, the change (none or one) and the event to publish. */
export type PaymentDecided = Omit<PaymentDecision, 'change'> & { changes: PaymentChange[] };

/** The rule of each input. */
function decidePayment(state: DecidedPayment | undefined, input: PaymentInput): PaymentDecision {
  switch (input.kind) {
    case 'request_charge':
      return requestCharge(input.order, state, input.steps);
    case 'cancel':
      return cancelPayment(input.order, state);
    case 'gateway_result':
      return recordGatewayResult(input.leased, state, input.result, input.at);
  }
}

/**
 * The payment rules as one decider (`Decider` of `@platform/contracts`), made of `requestCharge`,
 * `cancelPayment` and `recordGatewayResult`. `evolve` is the payment as `savePayments` stores it: an
 * insert makes the row (no charge, refund or error yet), an update sets every column of its write; a lease
 * taken runs, a lease released ends, and no word about it leaves it as it was. When it is due is the
 * database's clock, not something a decision reads: it is not in the state.
 * @throws Error from `evolve` for an insert of a payment that exists, or an update of one that does not
 *   (the repository's INSERT or UPDATE would fail or find nothing).
 */
export const paymentDecider: Decider<
  DecidedPayment | undefined,
  PaymentInput,
  PaymentChange,
  PaymentDecided
> = {
  initial: undefined,
  decide: (state, input) => {
    const { change, ...decision } = decidePayment(state, input);
    return { ...decision, changes: change ? [change] : [] };
  },
  evolve: (state, change) => {
    const { status, cancel_requested, attempts, refund_attempts, lease } = change.write;
    const columns = { status, cancel_requested, attempts, refund_attempts };
    if (change.kind === 'insert') {
      if (state) throw new Error(`payment ${state.payment.order_id} is inserted twice`);
      const { order, amount, steps } = change;
      return {
        payment: {
          order_id: order.order_id,
          amount,
          order_snapshot: order,
          steps,
          ...columns,
          charge_id: null,
          refund_id: null,
          last_error: null,
        },
        leased: lease === 'take',
      };
    }
    if (!state) throw new Error('a payment is updated before it is inserted');
    const { charge_id, refund_id, last_error } = change.write;
    return {
      payment: { ...state.payment, ...columns, charge_id, refund_id, last_error },
      leased: lease === undefined ? state.leased : lease === 'take',
    };
  },
};
