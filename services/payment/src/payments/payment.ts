import type { Selectable } from 'kysely';
import {
  createEvent,
  PaymentEvents,
  type EventEnvelope,
  type OrderSnapshot,
  type SagaStepRecord,
} from '@platform/contracts';
import type { PaymentsTable } from '../database.js';
import type { GatewayCharge, GatewayRefund } from './payment-gateway.client.js';

/**
 * Where an order's payment stands. `charging` and `refunding` are the worker's to-do list; `cancelled`
 * means nothing was (or will be) charged: a cancellation came first, or before the charge went through.
 */
export type PaymentStatus = 'charging' | 'charged' | 'failed' | 'refunding' | 'refunded' | 'cancelled';

/** An order's payment as stored: one row per order, whatever arrives twice. */
export type Payment = Selectable<PaymentsTable>;

/** A payment as the use cases decide on it: the row, and whether a worker's lease on it still runs. */
export interface PaymentState {
  payment: Payment;
  leased: boolean;
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

/** How a worker's gateway step ended, to be recorded against the payment it leased. */
/** The gateway step a leased payment is due for. Pure. */
export function stepOf(payment: LeasedPayment): 'refund' | 'settle_cancelled' | 'charge' {
  if (payment.status === 'refunding') return 'refund';
  return payment.cancel_requested ? 'settle_cancelled' : 'charge';
}

export type GatewayResult =
  | { kind: 'charged'; charge: GatewayCharge }
  | { kind: 'failed'; error: string }
  | { kind: 'not_charged' }
  | { kind: 'refunded'; refund: GatewayRefund }
  | { kind: 'retry'; error: string; retryInMs: number };

const PRODUCER = 'payment';

const unchanged = (payment: Payment): PaymentWrite => ({
  status: payment.status,
  cancel_requested: payment.cancel_requested,
  attempts: payment.attempts,
  refund_attempts: payment.refund_attempts,
  charge_id: payment.charge_id,
  refund_id: payment.refund_id,
  last_error: payment.last_error,
});

/** Taken now by this instance to give money back: due at once, its attempt counted. */
const takenToGiveBack = (write: PaymentWrite): PaymentWrite => ({
  ...write,
  refund_attempts: write.refund_attempts + 1,
  dueInMs: 0,
  lease: 'take',
});

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
 * inventory.reserved: the order is to be charged its total, by this instance's worker at once (its first
 * attempt counted). Any existing row wins, whether a duplicate or a cancellation that came first (its
 * tombstone): an order is charged at most once, and never once cancelled. A missing total is a bug
 * upstream (inventory only reserves priced orders): it throws, to be dead-lettered, not guessed at.
 */
export function requestCharge(
  order: OrderSnapshot,
  state: PaymentState | undefined,
  steps: SagaStepRecord[] = [],
): PaymentDecision {
  if (state) return { outcome: 'nothing_to_do' };
  const amount = order.total_amount;
  if (amount === null || !Number.isFinite(amount) || amount <= 0) {
    throw new Error(`order ${order.order_id} has no positive total_amount to charge (${String(amount)})`);
  }
  const write: PaymentWrite = {
    status: 'charging',
    cancel_requested: false,
    attempts: 1,
    refund_attempts: 0,
    charge_id: null,
    refund_id: null,
    last_error: null,
    dueInMs: 0,
    lease: 'take',
  };
  return { outcome: 'charge_requested', change: { kind: 'insert', order, amount, steps, write } };
}

/**
 * order.cancelled: nothing charged yet stays uncharged, a charge is refunded. A charge in flight (its
 * lease runs) is only flagged: the worker that made the call decides once it knows whether the gateway
 * charged. One waiting for its next attempt is settled now rather than charged later.
 */
export function cancelPayment(order: OrderSnapshot, state: PaymentState | undefined): PaymentDecision {
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
    const flagged = { ...unchanged(payment), cancel_requested: true, dueInMs: 0 };
    return {
      outcome: 'cancel_requested',
      change: { kind: 'update', write: leased ? flagged : takenToGiveBack(flagged) },
    };
  }
  if (payment.status === 'charged') {
    const write = takenToGiveBack({ ...unchanged(payment), status: 'refunding', cancel_requested: true });
    return { outcome: 'refund_requested', change: { kind: 'update', write } };
  }
  return { outcome: 'nothing_to_do' };
}

/**
 * Records what a worker's gateway step came to, if the payment is still as the worker leased it (a
 * second worker after an expired lease finds it moved on and changes nothing):
 * - a charge stands and is announced, or, if the order was cancelled meanwhile, is refunded (never
 *   announced as processed);
 * - no charge after every attempt fails the payment (announced unless the order was cancelled);
 * - a cancelled order the gateway never charged is done;
 * - a refund is recorded and announced;
 * - no usable answer makes it due again after the backoff, or at once when the order was cancelled while
 *   it was being charged, so that the next step settles the cancellation instead of waiting out a charge
 *   retry (not when the step was itself settling: a gateway that cannot be reached would be asked again
 *   and again without pause).
 * The events that go on in the saga carry its steps so far and this one (`paid`, `payment_failed`), at
 * `at` (ISO 8601: when the result is recorded).
 */
export function recordGatewayResult(
  leased: LeasedPayment,
  state: PaymentState | undefined,
  result: GatewayResult,
  at: string,
): PaymentDecision {
  const payment = state?.payment;
  if (payment?.status !== leased.status) return { outcome: 'nothing_to_do' };
  const current = unchanged(payment);
  const snapshot = payment.order_snapshot;
  switch (result.kind) {
    case 'charged': {
      if (payment.status !== 'charging') return { outcome: 'nothing_to_do' };
      const charged = { ...current, charge_id: result.charge.charge_id, last_error: null };
      if (payment.cancel_requested) {
        return {
          outcome: 'refund_requested',
          change: { kind: 'update', write: takenToGiveBack({ ...charged, status: 'refunding' }) },
        };
      }
      return {
        outcome: 'charged',
        change: { kind: 'update', write: { ...charged, status: 'charged', lease: 'release' } },
        event: createEvent(PaymentEvents.processed, PRODUCER, {
          order: snapshot,
          charge: { charge_id: result.charge.charge_id, amount: result.charge.amount },
          steps: [
            ...payment.steps,
            { step: 'paid', at, data: { charge_id: result.charge.charge_id, amount: result.charge.amount } },
          ],
        }),
      };
    }
    case 'failed':
      if (payment.status !== 'charging') return { outcome: 'nothing_to_do' };
      return {
        outcome: 'failed',
        change: {
          kind: 'update',
          write: { ...current, status: 'failed', last_error: result.error, lease: 'release' },
        },
        ...(payment.cancel_requested
          ? {}
          : {
              event: createEvent(PaymentEvents.failed, PRODUCER, {
                order: snapshot,
                reason: 'payment_failed',
                steps: [...payment.steps, { step: 'payment_failed', at, data: { reason: 'payment_failed' } }],
              }),
            }),
      };
    case 'not_charged':
      if (payment.status !== 'charging') return { outcome: 'nothing_to_do' };
      return {
        outcome: 'cancelled',
        change: { kind: 'update', write: { ...current, status: 'cancelled', lease: 'release' } },
      };
    case 'refunded':
      if (payment.status !== 'refunding') return { outcome: 'nothing_to_do' };
      return {
        outcome: 'refunded',
        change: {
          kind: 'update',
          write: {
            ...current,
            status: 'refunded',
            refund_id: result.refund.refund_id,
            last_error: null,
            lease: 'release',
          },
        },
        event: createEvent(PaymentEvents.refunded, PRODUCER, {
          order: snapshot,
          refund: { refund_id: result.refund.refund_id, amount: result.refund.amount },
        }),
      };
    case 'retry': {
      const cancelledDuringCharge =
        leased.status === 'charging' && !leased.cancel_requested && payment.cancel_requested;
      const failed = { ...current, last_error: result.error };
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
