import type { Transaction } from 'kysely';
import { InventoryEvents, OrderEvents, type EventEnvelope, type SubscribedEvent } from '@platform/contracts';
import { captureTraceContext } from '@platform/observability';
import { appendToOutbox, correlationTrace } from '@platform/outbox';
import { commitWith, lockKeys } from '@platform/postgres';
import type { SagaEvent } from '@platform/service-host';
import type { PaymentDatabase } from '../database.js';
import {
  cancelPayment,
  leasedAfter,
  requestCharge,
  type LeasedPayment,
  type PaymentChange,
  type PaymentDecision,
  type PaymentOutcome,
  type PaymentState,
} from './payment.js';
import { lockPayments, savePayments } from './payments.repository.js';

/** An event payment consumes (SPEC §2), checked against its schema. */
export type PaymentEvent = SagaEvent<SubscribedEvent<'payment'>>;

/** The events payment applies, each with its decision: its handlers, one per subscribed type. */
const DECISIONS: {
  [T in PaymentEvent['envelope']['type']]: (
    event: Extract<PaymentEvent['envelope'], { type: T }>,
    state: PaymentState | undefined,
  ) => PaymentDecision;
} = {
  [InventoryEvents.reserved]: (event, state) =>
    requestCharge(event.payload.order, state, event.payload.steps),
  [OrderEvents.cancelled]: (event, state) => cancelPayment(event.payload.order, state),
};

/** The decision of the event's own handler. */
function decide(event: PaymentEvent['envelope'], state: PaymentState | undefined): PaymentDecision {
  // TypeScript cannot correlate a handler's parameter with the event's type (microsoft/TypeScript#30581).
  const handler = DECISIONS[event.type] as (
    event: PaymentEvent['envelope'],
    state: PaymentState | undefined,
  ) => PaymentDecision;
  return handler(event, state);
}

/** The event types payment handles: the service starts only if they are its subscriptions. */
export const PAYMENT_EVENT_TYPES = Object.keys(DECISIONS) as (keyof typeof DECISIONS)[];

/** What applying an event came to, and the payment to hand to this instance's worker, if any. */
export interface PaymentApplied {
  outcome: PaymentOutcome;
  handOff?: LeasedPayment;
}

/**
 * Locks the orders (their keys, then their payment rows) and reads their payments, in one round trip.
 */
export async function loadPayments(
  trx: Transaction<PaymentDatabase>,
  orderIds: readonly string[],
): Promise<Map<string, PaymentState>> {
  const [, states] = await Promise.all([lockKeys(trx, orderIds), lockPayments(trx, orderIds)]);
  return states;
}

/**
 * Applies a round of events (one per order) against their payments (`loadPayments`): each event is
 * decided in memory, and the payments and outgoing events are sent with the COMMIT. A payment it leased
 * (a charge to make, money to give back) is handed to the worker once the transaction committed: no poll,
 * no lease query.
 */
export function applyPaymentEvents(
  trx: Transaction<PaymentDatabase>,
  events: readonly PaymentEvent[],
  states: ReadonlyMap<string, PaymentState>,
  leaseMs: number,
): PaymentApplied[] {
  return applyPaymentDecisions(
    trx,
    events.map((event) => event.envelope.correlation_id),
    states,
    leaseMs,
    (state, i) => decide((events[i] as PaymentEvent).envelope, state),
  );
}

/**
 * The shape of every payment use case once the payments are loaded (`loadPayments`): decide each in
 * memory, send the changes and the events with the COMMIT, and say which payments this instance now holds.
 */
export function applyPaymentDecisions(
  trx: Transaction<PaymentDatabase>,
  orderIds: readonly string[],
  states: ReadonlyMap<string, PaymentState>,
  leaseMs: number,
  decide: (state: PaymentState | undefined, index: number) => PaymentDecision,
): PaymentApplied[] {
  const changes = new Map<string, PaymentChange>();
  const outgoing: EventEnvelope[] = [];
  const applied = orderIds.map((orderId, i): PaymentApplied => {
    const decision = decide(states.get(orderId), i);
    if (decision.event) outgoing.push(decision.event);
    const { change } = decision;
    if (!change) return { outcome: decision.outcome };
    changes.set(orderId, change);
    const amount = change.kind === 'insert' ? change.amount : (states.get(orderId)?.payment.amount ?? null);
    return {
      outcome: decision.outcome,
      ...(change.write.lease === 'take'
        ? {
            handOff: leasedAfter(
              {
                order_id: orderId,
                amount,
                trace_context: captureTraceContext(correlationTrace(trx, orderId)),
              },
              change.write,
            ),
          }
        : {}),
    };
  });
  commitWith(trx, savePayments(trx, changes, leaseMs), appendToOutbox(trx, outgoing));
  return applied;
}
