import type { Kysely, Transaction } from 'kysely';
import { FulfilmentEvents, InventoryEvents, PaymentEvents, type OrderSnapshot } from '@platform/contracts';
import type { EventHandler } from '@platform/messaging';
import { handleThroughInbox, routeEvents } from '@platform/service-host';
import type { OrderDatabase } from '../database.js';
import { cancelForReason, completeOrder, recordStep, type AdvanceOutcome } from './advance-order.js';

/**
 * The order's state machine, driven by the other services' events (SPEC §2): one handler per event,
 * each applied once through the inbox, in one transaction with the events it emits.
 */
export function sagaEventHandler(db: Kysely<OrderDatabase>): EventHandler {
  const handle = (
    apply: (trx: Transaction<OrderDatabase>, order: OrderSnapshot) => Promise<AdvanceOutcome>,
  ) => handleThroughInbox(db, 'order', apply);
  return routeEvents({
    [InventoryEvents.reserved]: handle((trx, order) => recordStep(trx, order.order_id, 'stock_reserved')),
    [InventoryEvents.unavailable]: handle((trx, order) =>
      cancelForReason(trx, order.order_id, 'out_of_stock', 'out_of_stock'),
    ),
    [PaymentEvents.processed]: handle((trx, order) => recordStep(trx, order.order_id, 'paid')),
    [PaymentEvents.failed]: handle((trx, order) =>
      cancelForReason(trx, order.order_id, 'payment_failed', 'payment_failed'),
    ),
    [PaymentEvents.refunded]: handle((trx, order) => recordStep(trx, order.order_id, 'refunded')),
    [FulfilmentEvents.placed]: handle((trx, order) => completeOrder(trx, order.order_id)),
    [FulfilmentEvents.failed]: handle((trx, order) =>
      cancelForReason(trx, order.order_id, 'placement_failed', 'placement_failed'),
    ),
  });
}
