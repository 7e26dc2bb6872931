import type { Transaction } from 'kysely';
import {
  createEvent,
  InventoryEvents,
  OrderEvents,
  type EventEnvelope,
  type SubscribedEvent,
} from '@platform/contracts';
import { appendToOutbox } from '@platform/outbox';
import { commitWith, lockKeys } from '@platform/postgres';
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

/** What deciding a round of stock events needs: the orders' reservations and the products' counters. */
export interface StockState {
  reservations: Map<string, Reservation>;
  levels: Map<string, StockCounters>;
}

/**
 * Locks and reads what a round of order events (one per order) needs, in one round trip: the orders'
 * locks, their reservations and the counters of every product they name (an order's items are the same
 * in each of its events, so the events alone say which products to lock).
 */
export async function loadStock(
  trx: Transaction<InventoryDatabase>,
  events: readonly StockEvent[],
): Promise<StockState> {
  const orderIds = events.map((event) => event.envelope.correlation_id);
  const products = new Set(
    events.flatMap(({ envelope }) => envelope.payload.order.items.map((i) => i.product_code)),
  );
  const [, reservations, levels] = await Promise.all([
    lockKeys(trx, orderIds),
    findReservations(trx, orderIds),
    lockStock(trx, [...products]),
  ]);
  return { reservations, levels };
}

/**
 * Applies a round of order events (one per order): each event is decided in memory against the levels the
 * ones before it left, and the reservations, the stock (one row update per product, however many orders
 * moved it: a popular product does not serialise the system) and the outgoing events are sent with the
 * transaction's COMMIT.
 */
export function applyStockEvents(
  trx: Transaction<InventoryDatabase>,
  events: readonly StockEvent[],
  { reservations, levels }: StockState,
): { outcome: ReservationOutcome }[] {
  const changes = new Map<string, StockCounters>();
  const written = new Map<string, Reservation>();
  const outgoing: EventEnvelope[] = [];
  // The first step of the saga's trail (SPEC §2): the events after it carry it on to the order service.
  const at = new Date().toISOString();
  const results = events.map(({ envelope }) => {
    const { order } = envelope.payload;
    const decision = decide(envelope, reservations.get(order.order_id), levels);
    if (decision.movement) applyMovement(levels, changes, decision.movement);
    if (decision.reservation) written.set(order.order_id, decision.reservation);
    if (decision.outcome === 'reserved') {
      outgoing.push(
        createEvent(InventoryEvents.reserved, 'inventory', {
          order,
          steps: [{ step: 'stock_reserved', at }],
        }),
      );
    } else if (decision.outcome === 'out_of_stock') {
      outgoing.push(
        createEvent(InventoryEvents.unavailable, 'inventory', {
          order,
          reason: 'out_of_stock',
          missing: decision.missing ?? [],
          steps: [{ step: 'out_of_stock', at, data: { missing: decision.missing ?? [] } }],
        }),
      );
    }
    return { outcome: decision.outcome };
  });
  commitWith(trx, saveReservations(trx, written), changeStock(trx, changes), appendToOutbox(trx, outgoing));
  return results;
}
