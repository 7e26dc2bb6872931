import type { Transaction } from 'kysely';
import { appendToOutbox } from '@platform/outbox';
import type { SagaEvent as ConsumedSagaEvent } from '@platform/service-host';
import type { OrderDatabase } from '../database.js';
import {
  transition,
  type OrderOutcome,
  type OrderTransition,
  type SagaEvent,
} from '../orders/order-state-machine.js';
import { lockOrders, saveTransitions } from '../orders/orders.repository.js';

/** What a saga event did to its order (`unknown_order`: no such order here), and the order's reason. */
export interface SagaApplied {
  outcome: OrderOutcome | 'unknown_order';
  reason?: string | null;
  /** The order's transition, for what is done after commit (log lines, metrics). */
  transition?: OrderTransition;
}

/**
 * Applies a round of the other services' events (one per order) in one transaction: the orders are locked
 * and read in one statement (an event's decision and its write see the same state, whatever the deadline
 * sweep or the API do meanwhile), each event is decided in memory by the order's state machine
 * (`order-state-machine.ts`), and every change, history entry and event it announces is written in three
 * more.
 */
export async function applySagaEvents(
  trx: Transaction<OrderDatabase>,
  events: readonly ConsumedSagaEvent<SagaEvent>[],
): Promise<SagaApplied[]> {
  const orders = await lockOrders(
    trx,
    events.map((event) => event.envelope.correlation_id),
  );
  const transitions = events.map(({ envelope }) => {
    const order = orders.get(envelope.correlation_id);
    return order && { ...transition(order, { kind: 'saga_event', event: envelope }), eventId: envelope.id };
  });
  await saveTransitions(
    trx,
    transitions.filter((t) => t !== undefined),
  );
  await appendToOutbox(
    trx,
    transitions.flatMap((t) => t?.events ?? []),
  );
  return transitions.map((t): SagaApplied =>
    t ? { outcome: t.decision.outcome, reason: t.after.reason, transition: t } : { outcome: 'unknown_order' },
  );
}
