import type { Transaction } from 'kysely';
import { createSagaEvent, InventoryEvents, OrderEvents, type EventEnvelope } from '@platform/contracts';
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

/** The events inventory applies (SPEC §2), each with its decision. */
const DECISIONS = {
  [OrderEvents.created]: (event, reservation, levels) =>
    reserveStock(
      event.order,
      reservation,
      new Map([...levels].map(([code, level]) => [code, level.available])),
    ),
  [OrderEvents.cancelled]: (event, reservation) => releaseStock(event.order, reservation),
  [OrderEvents.completed]: (event, reservation) => sellStock(event.order, reservation),
} satisfies Record<
  string,
  (
    event: SagaEvent,
    reservation: Reservation | undefined,
    levels: ReadonlyMap<string, StockCounters>,
  ) => StockDecision
>;

/** The event types inventory consumes. */
export const STOCK_EVENT_TYPES = Object.keys(DECISIONS);

/**
 * Applies a round of order events (one per order) in one transaction: the orders' locks, reservations and
 * stock rows are taken in three statements, each event is decided in memory against the levels the ones
 * before it left, and the reservations, the stock (one row update per product, however many orders moved
 * it: a popular product does not serialise the system) and the outgoing events are written in three more.
 */
export async function applyStockEvents(
  trx: Transaction<InventoryDatabase>,
  events: readonly SagaEvent[],
): Promise<{ outcome: ReservationOutcome }[]> {
  const orderIds = events.map((event) => event.order.order_id);
  await lockKeys(trx, orderIds);
  const reservations = await findReservations(trx, orderIds);
  const products = new Set<string>();
  for (const event of events) {
    for (const item of event.order.items) products.add(item.product_code);
    for (const item of reservations.get(event.order.order_id)?.items ?? []) products.add(item.product_code);
  }
  const levels = await lockStock(trx, [...products]);
  const changes = new Map<string, StockCounters>();
  const written = new Map<string, Reservation>();
  const outgoing: EventEnvelope[] = [];
  const results = events.map((event) => {
    const decide = DECISIONS[event.envelope.type as keyof typeof DECISIONS];
    const decision = decide(event, reservations.get(event.order.order_id), levels);
    if (decision.movement) applyMovement(levels, changes, decision.movement);
    if (decision.reservation) written.set(event.order.order_id, decision.reservation);
    if (decision.outcome === 'reserved') {
      outgoing.push(createSagaEvent(InventoryEvents.reserved, 'inventory', event.order));
    } else if (decision.outcome === 'out_of_stock') {
      outgoing.push(
        createSagaEvent(InventoryEvents.unavailable, 'inventory', event.order, {
          reason: 'out_of_stock',
          missing: decision.missing,
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
