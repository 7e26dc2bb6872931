import type { Transaction } from 'kysely';
import { appendToOutbox } from '@platform/outbox';
import type { OrderDatabase } from '../database.js';
import { transition, type OrderInput, type OrderTransition } from './order-state-machine.js';
import { lockOrders, saveTransitions } from './orders.repository.js';

/** An input for one order, with the id of the integration event that reported it, if one did. */
export interface OrderRequest {
  orderId: string;
  input: OrderInput;
  eventId?: string;
}

/**
 * Writes decided transitions in the caller's transaction: each order's change and history entries
 * (`saveTransitions`, guarded by version), then the events they announce, into the outbox.
 */
export async function recordTransitions(
  trx: Transaction<OrderDatabase>,
  transitions: readonly (OrderTransition & { eventId?: string })[],
): Promise<void> {
  await saveTransitions(trx, transitions);
  await appendToOutbox(
    trx,
    transitions.flatMap((t) => t.events),
  );
}

/**
 * Applies inputs to orders (at most one per order) in the caller's transaction: the orders are locked and
 * read in one statement, so each decision and its write see the same state whatever the API, the deadline
 * sweep or another batch do meanwhile; the state machine decides each input in memory; and every change,
 * history entry and announced event is written with `recordTransitions`. Returns each input's transition,
 * in the same order; undefined for an order that does not exist.
 */
export async function applyOrderInputs(
  trx: Transaction<OrderDatabase>,
  requests: readonly OrderRequest[],
): Promise<(OrderTransition | undefined)[]> {
  const orders = await lockOrders(
    trx,
    requests.map((request) => request.orderId),
  );
  const transitions = requests.map(({ orderId, input, eventId }) => {
    const order = orders.get(orderId);
    return order && { ...transition(order, input), ...(eventId === undefined ? {} : { eventId }) };
  });
  await recordTransitions(
    trx,
    transitions.filter((t) => t !== undefined),
  );
  return transitions;
}
