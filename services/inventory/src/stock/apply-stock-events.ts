import type { Transaction } from 'kysely';
import {
  createEvent,
  InventoryEvents,
  OrderEvents,
  type EventEnvelope,
  type SubscribedEvent,
} from '@platform/contracts';
import { appendToOutbox } from '@platform/outbox';
import { lockKeys } from '@platform/postgres';
import type { SagaEvent } from '@platform/service-host';
import type { InventoryDatabase } from '../database.js';
import { findReservations, saveReservations } from './reservations.repository.js';
import { changeStock, lockStock } from './stock.repository.js';
import {
  applyMovement,
  releaseStock,
  reserveStock,
  sellStock,
  type Reservation,
  type ReservationOutcome,
  type StockCounters,
  type StockDecision,
} from './stock.js';

/** An event inventory consumes (SPEC §2), checked against its schema. */
export type StockEvent = SagaEvent<SubscribedEvent<'inventory'>>;

/** The events inventory applies, each with its decision: its handlers, one per subscribed type. */
const DECISIONS: {
  [T in StockEvent['envelope']['type']]: (
    event: Extract<StockEvent['envelope'], { type: T }>,
    reservation: Reservation | undefined,
    levels: ReadonlyMap<string, StockCounters>,
  ) => StockDecision;
} = {
  [OrderEvents.created]: (event, reservation, levels) =>
    reserveStock(
      event.payload.order,
      reservation,
      new Map([...levels].map(([code, level]) => [code, level.available])),
    ),
  [OrderEvents.cancelled]: (event, reservation) => releaseStock(event.payload.order, reservation),
  [OrderEvents.completed]: (event, reservation) => sellStock(event.payload.order, reservation),
};

/** The event types inventory handles: the service starts only if they are its subscriptions. */
export const STOCK_EVENT_TYPES = Object.keys(DECISIONS) as (keyof typeof DECISIONS)[];

/** The decision of the event's own handler. */
function decide(
  event: StockEvent['envelope'],
  reservation: Reservation | undefined,
  levels: ReadonlyMap<string, StockCounters>,
): StockDecision {
  // TypeScript cannot correlate a handler's parameter with the event's type (microsoft/TypeScript#30581).
  const handler = DECISIONS[event.type] as (
    event: StockEvent['envelope'],
    ...rest: DecisionArgs
  ) => StockDecision;
  return handler(event, reservation, levels);
}

type DecisionArgs = [reservation: Reservation | undefined, levels: ReadonlyMap<string, StockCounters>];

/**
 * Applies a round of order events (one per order) in one transaction: the orders' locks, reservations and
 * stock rows are taken in three statements, each event is decided in memory against the levels the ones
 * before it left, and the reservations, the stock (one row update per product, however many orders moved
 * it: a popular product does not serialise the system) and the outgoing events are written in three more.
 */
export async function applyStockEvents(
  trx: Transaction<InventoryDatabase>,
  events: readonly StockEvent[],
): Promise<{ outcome: ReservationOutcome }[]> {
  const orderIds = events.map((event) => event.envelope.correlation_id);
  await lockKeys(trx, orderIds);
  const reservations = await findReservations(trx, orderIds);
  const products = new Set<string>();
  for (const { envelope } of events) {
    for (const item of envelope.payload.order.items) products.add(item.product_code);
    for (const item of reservations.get(envelope.correlation_id)?.items ?? [])
      products.add(item.product_code);
  }
  const levels = await lockStock(trx, [...products]);
  const changes = new Map<string, StockCounters>();
  const written = new Map<string, Reservation>();
  const outgoing: EventEnvelope[] = [];
  const results = events.map(({ envelope }) => {
    const { order } = envelope.payload;
    const decision = decide(envelope, reservations.get(order.order_id), levels);
    if (decision.movement) applyMovement(levels, changes, decision.movement);
    if (decision.reservation) written.set(order.order_id, decision.reservation);
    if (decision.outcome === 'reserved') {
      outgoing.push(createEvent(InventoryEvents.reserved, 'inventory', { order }));
    } else if (decision.outcome === 'out_of_stock') {
      outgoing.push(
        createEvent(InventoryEvents.unavailable, 'inventory', {
          order,
          reason: 'out_of_stock',
          missing: decision.missing ?? [],
        }),
      );
    }
    return { outcome: decision.outcome };
  });
  await saveReservations(trx, written);
  await changeStock(trx, changes);
  await appendToOutbox(trx, outgoing);
  return results;
}
