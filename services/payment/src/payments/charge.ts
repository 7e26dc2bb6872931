import { createEvent, PaymentEvents, type OrderSnapshot, type SagaStepRecord } from '@platform/contracts';
import type { DecidedPayment, GatewayResult, PaymentDecision, PaymentWrite } from './payment.js';
import { currentWrite, takenToGiveBack } from './payment-write.js';

// The charge rules: when an order is charged, and what the gateway's answer to a charge comes to. Money
// given back is refund.ts's; `payment.ts` joins both into the payment's decider.

const PRODUCER = 'payment';

/**
 * inventory.reserved: the order is to be charged its total, by this instance's worker at once (its first
 * attempt counted). Any existing row wins, whether a duplicate or a cancellation that came first (its
 * tombstone): an order is charged at most once, and never once cancelled. A missing total is a bug
 * upstream (inventory only reserves priced orders): it throws, to be dead-lettered, not guessed at.
 */
export function requestCharge(
  order: OrderSnapshot,
  state: DecidedPayment | undefined,
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

/** The gateway's answers to a charge, or to the settling of a charge the order was cancelled during. */
export type ChargeResult = Extract<GatewayResult, { kind: 'charged' | 'failed' | 'not_charged' }>;

/**
 * What the gateway's answer does to a payment still being charged (any other changes nothing):
 * - a charge stands and is announced (`paid`), or, if the order was cancelled meanwhile, is to be given
 *   back (never announced as processed);
 * - no charge after every attempt fails the payment, announced (`payment_failed`) unless the order was
 *   cancelled;
 * - a cancelled order the gateway never charged is done.
 * The events carry the saga's steps so far and this one, at `at` (ISO 8601).
 */
export function recordChargeResult(
  payment: DecidedPayment['payment'],
  result: ChargeResult,
  at: string,
): PaymentDecision {
  if (payment.status !== 'charging') return { outcome: 'nothing_to_do' };
  const current = currentWrite(payment);
  const snapshot = payment.order_snapshot;
  switch (result.kind) {
    case 'charged': {
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
      return {
        outcome: 'cancelled',
        change: { kind: 'update', write: { ...current, status: 'cancelled', lease: 'release' } },
      };
  }
}
