import type { Transaction } from 'kysely';
import { appendToOutbox } from '@platform/outbox';
import { commitWith } from '@platform/postgres';
import type { OrderDatabase } from '../database.js';
import type { Order } from './order.js';
import { transition, type OrderInput, type OrderTransition } from './order-state-machine.js';
import { lockOrders, saveTransitions } from './orders.repository.js';

/** An input for one order, with the id of the integration event that reported it, if one did. */
export interface OrderRequest {
  orderId: string;
  input: OrderInput;
  eventId?: string;
}

/**
 * Sends decided transitions with the caller's COMMIT (`commitWith`): each order's change and history
 * entries (`saveTransitions`, guarded by version) and the events they announce, into the outbox.
 */
export function recordTransitions(
  trx: Transaction<OrderDatabase>,
  transitions: readonly (OrderTransition & { eventId?: string })[],
): void {
  commitWith(
    trx,
    saveTransitions(trx, transitions),
    appendToOutbox(
      trx,
      transitions.flatMap((t) => t.events),
    ),
  );
}

/**
 * Decides inputs (at most one per order) for the orders `lockOrders` read, and sends the transitions with
 * the caller's COMMIT (`recordTransitions`). Returns each input's transition, in the same order; undefined
 * for an order that does not exist.
 */
export function decideOrderInputs(
  trx: Transaction<OrderDatabase>,
  requests: readonly OrderRequest[],
  orders: ReadonlyMap<string, Order>,
): (OrderTransition | undefined)[] {
  const transitions = requests.map(({ orderId, input, eventId }) => {
    const order = orders.get(orderId);
    return order && { ...transition(order, input), ...(eventId === undefined ? {} : { eventId }) };
  });
  recordTransitions(
    trx,
    transitions.filter((t) => t !== undefined),
  );
  return transitions;
}

/**
 * Applies inputs to orders (at most one per order) in the caller's transaction, in two round trips: the
 * orders are locked and read in one statement, so each decision and its write see the same state whatever
 * the API, the deadline sweep or another batch do meanwhile; the state machine decides each input in
 * memory; and every change, history entry and announced event goes with the COMMIT
 * (`decideOrderInputs`). Returns each input's transition, in the same order; undefined for an order that
 * does not exist.
 */
export async function applyOrderInputs(
  trx: Transaction<OrderDatabase>,
  requests: readonly OrderRequest[],
): Promise<(OrderTransition | undefined)[]> {
  const orders = await lockOrders(
    trx,
    requests.map((request) => request.orderId),
  );
  return decideOrderInputs(trx, requests, orders);
}
