import type { Transaction } from 'kysely';
import type { EventEnvelope, SubscribedEvent } from '@platform/contracts';
import { appendToOutbox } from '@platform/outbox';
import type { SagaEvent } from '@platform/service-host';
import type { OrderDatabase } from '../database.js';
import {
  SAGA_STEPS,
  sagaTransition,
  type SagaEventType,
  type SagaOutcome,
  type SagaTransition,
} from './order-saga.js';
import { lockOrders, saveTransitions } from './saga.repository.js';

/** The event types the order service consumes (SPEC §2). */
export const SAGA_EVENT_TYPES = Object.keys(SAGA_STEPS) as SagaEventType[];

/** What a saga event did, and the order's reason when it ended it. */
export interface SagaApplied {
  outcome: SagaOutcome;
  reason?: string | null;
}

/**
 * Applies a round of the other services' events (one per order) in one transaction: the orders are locked
 * and read in one statement (an event's decision and its write see the same state, whatever the deadline
 * sweep or the API do meanwhile), each event's transition is decided in memory by the order's state
 * machine (`order-saga.ts`), and every change and every event it announces are written in two more.
 */
export async function applySagaEvents(
  trx: Transaction<OrderDatabase>,
  events: readonly SagaEvent<SubscribedEvent<'order'>>[],
): Promise<SagaApplied[]> {
  const orders = await lockOrders(
    trx,
    events.map((event) => event.envelope.correlation_id),
  );
  const transitions = new Map<string, SagaTransition>();
  const outgoing: EventEnvelope[] = [];
  const applied = events.map((event): SagaApplied => {
    const transition = sagaTransition(event.envelope.type, orders.get(event.envelope.correlation_id));
    if (!transition) return { outcome: 'unknown_order' };
    transitions.set(event.envelope.correlation_id, transition);
    if (transition.event) outgoing.push(transition.event);
    return { outcome: transition.outcome, reason: transition.reason };
  });
  await saveTransitions(trx, transitions);
  await appendToOutbox(trx, outgoing);
  return applied;
}
