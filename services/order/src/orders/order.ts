import type { TraceCarrier } from '@platform/observability';
import { CANCELLATION_REASONS, ORDER_STATES, type OrderSnapshot } from '@platform/contracts';

/** The order's states, as its lifecycle declares them (`@platform/contracts` order-lifecycle). */
export const ORDER_STATUSES = ORDER_STATES;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Order ids are UUIDs: anything else names no order (and is never sent to the database's uuid column). */
export const isOrderId = (value: string): boolean => UUID.test(value);
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Why an order was cancelled (SPEC §2), as its lifecycle declares them. */
export type CancellationReason = (typeof CANCELLATION_REASONS)[number];

/** A reason pricing refuses an order for (SPEC §2). */
export type PricingRejection = Extract<
  CancellationReason,
  'user_not_found' | 'product_not_found' | 'dependency_unavailable' | 'total_mismatch'
>;

export interface OrderItem {
  product_code: string;
  quantity: number;
  /** Known once the order is priced. */
  product_name: string | null;
  unit_price: number | null;
}

/** One step of an order's history, as the timeline of `GET /orders/{id}` shows it. */
export interface TimelineEntry {
  step: string;
  at: string;
  reason?: string;
  /** The step was reported after the order was already final (a late event, compensated elsewhere). */
  after_final?: true;
}

/**
 * An order as its row holds it: the projection of its history (`order-state-machine.ts`'s `evolve` folds
 * the one into the other). Amounts in the currency unit.
 */
export interface Order {
  id: string;
  user_id: string;
  status: OrderStatus;
  reason: string | null;
  items: OrderItem[];
  customer_fullname: string | null;
  total_amount: number | null;
  requested_total_amount: number | null;
  /** How many changes its history holds: the position of the last one. */
  version: number;
  /** When it was priced; null until then. */
  priced_at: Date | null;
  /** The trace context of the request that placed it: its saga is that trace. Null when tracing is off. */
  trace_context: TraceCarrier | null;
  created_at: Date;
  updated_at: Date;
}

/** An order with its timeline, as the API shows it. */
export interface OrderWithTimeline {
  order: Order;
  timeline: TimelineEntry[];
}

/** What a customer asks for, whichever of the three body shapes it came in. */
export interface PlaceOrderCommand {
  userId: string;
  items: { productCode: string; quantity: number }[];
  /** Seed 002's client-sent total, checked against the computed one once the order is priced. */
  requestedTotal: number | null;
}

/** `product_name` of SPEC §3: the single item's name, or the names joined with ", ". */
export function productNameOf(items: readonly OrderItem[]): string | null {
  if (items.some((item) => item.product_name === null)) return null;
  return items.map((item) => item.product_name).join(', ');
}

/** The order as events carry it (SPEC §3). */
export function toSnapshot(order: Order): OrderSnapshot {
  return {
    order_id: order.id,
    user_id: order.user_id,
    customer_fullname: order.customer_fullname,
    product_name: productNameOf(order.items),
    total_amount: order.total_amount,
    created_at: order.created_at.toISOString(),
    items: order.items.map((item) => ({
      product_code: item.product_code,
      product_name: item.product_name,
      quantity: item.quantity,
      unit_price: item.unit_price,
    })),
  };
}
