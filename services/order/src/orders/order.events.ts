import { createEvent, OrderEvents } from '@platform/contracts';
import { toSnapshot, type Order } from './order.js';

/** The order was priced: SPEC §3's snapshot, with customer name, item names and prices, and total. */
export const orderCreated = (order: Order) =>
  createEvent(OrderEvents.created, 'order', { order: toSnapshot(order) });

/** The order was placed at the fulfilment partner: the saga succeeded. */
export const orderCompleted = (order: Order) =>
  createEvent(OrderEvents.completed, 'order', { order: toSnapshot(order) });

/** The order was cancelled, with its reason. */
export const orderCancelled = (order: Order, reason: string) =>
  createEvent(OrderEvents.cancelled, 'order', { order: toSnapshot(order), reason });
