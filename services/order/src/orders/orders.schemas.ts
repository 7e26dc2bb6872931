import { traceIdOf } from '@platform/observability';
import { Type, type Static } from 'typebox';
import { Identifier } from '@platform/contracts';
import type { HistoryEntry } from './order-history.js';
import { productNameOf, type OrderWithTimeline } from './order.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

const OrderStatus = Type.Union([
  Type.Literal('PENDING'),
  Type.Literal('COMPLETED'),
  Type.Literal('CANCELLED'),
]);

export const OrderView = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    user_id: Type.String(),
    status: OrderStatus,
    reason: Nullable(Type.String({ description: 'Why the order was cancelled' })),
    customer_fullname: Nullable(Type.String()),
    product_name: Nullable(Type.String()),
    total_amount: Nullable(Type.Number()),
    items: Type.Array(
      Type.Object({
        product_code: Type.String(),
        product_name: Nullable(Type.String()),
        quantity: Type.Integer(),
        unit_price: Nullable(Type.Number()),
      }),
    ),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
    trace_id: Nullable(
      Type.String({
        pattern: '^[0-9a-f]{32}$',
        description:
          'The OpenTelemetry trace of the order, from its placement to its end; null when tracing is off',
      }),
    ),
    timeline: Type.Array(
      Type.Object({
        step: Type.String(),
        at: Type.String({ format: 'date-time' }),
        reason: Type.Optional(Type.String()),
        after_final: Type.Optional(
          Type.Boolean({ description: 'Reported after the order was final: compensated, not acted on' }),
        ),
      }),
    ),
  },
  { title: 'Order' },
);
export type OrderView = Static<typeof OrderView>;

export const OrderPage = Type.Object({ items: Type.Array(OrderView), next_cursor: Nullable(Type.String()) });

export const ListOrdersQuery = Type.Object(
  {
    user_id: Type.Optional(Identifier('Only the orders of this customer')),
    status: Type.Optional(OrderStatus),
    reason: Type.Optional(Identifier('Only the orders cancelled for this reason')),
    product_code: Type.Optional(Identifier('Only the orders with an item of this product')),
    q: Type.Optional(Identifier('Orders whose id, customer id or product code is this')),
    created_from: Type.Optional(Type.String({ format: 'date-time', description: 'Placed at or after' })),
    created_to: Type.Optional(Type.String({ format: 'date-time', description: 'Placed before' })),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(
      Type.String({
        maxLength: 64,
        pattern: '^[A-Za-z0-9_-]*$',
        description: 'next_cursor of the previous page',
      }),
    ),
  },
  { additionalProperties: false },
);

export const OrderIdParams = Type.Object({ id: Type.String() });

export const IdempotencyHeaders = Type.Object({
  // Printable ASCII: what a client can send in a header anyway, and nothing PostgreSQL would refuse.
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[ -~]+$' })),
});

export const ErrorBody = Type.Object({ message: Type.String() });
export const ValidationErrorBody = Type.Object({
  message: Type.String(),
  errors: Type.Array(Type.Object({ path: Type.String(), message: Type.String() })),
});

/** One change of an order's history, as `GET /orders/{id}/events` shows it. */
export const HistoryEntryView = Type.Object(
  {
    position: Type.Integer({ minimum: 1, description: '1 for the first change, then one more for each' }),
    step: Type.String({ description: 'placed, priced, stock_reserved, paid, …, completed or cancelled' }),
    at: Type.String({ format: 'date-time' }),
    reason: Type.Optional(Type.String()),
    after_final: Type.Optional(
      Type.Boolean({ description: 'Reported after the order was final: compensated, not acted on' }),
    ),
    data: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description:
          'What the change carried: items, prices and total when priced, the charge, the refund, …',
      }),
    ),
    event_id: Nullable(Type.String({ description: 'The id of the integration event that reported it' })),
  },
  { title: 'OrderHistoryEntry' },
);
export type HistoryEntryView = Static<typeof HistoryEntryView>;

export const OrderHistoryView = Type.Object(
  { order_id: Type.String({ format: 'uuid' }), events: Type.Array(HistoryEntryView) },
  { title: 'OrderHistory' },
);

/** The HTTP representation of a change of an order. */
export function toHistoryEntryView(entry: HistoryEntry): HistoryEntryView {
  return {
    position: entry.position,
    step: entry.step,
    at: entry.at.toISOString(),
    ...('reason' in entry ? { reason: entry.reason } : {}),
    ...('after_final' in entry && entry.after_final === true ? { after_final: true } : {}),
    ...('data' in entry && entry.data !== undefined ? { data: { ...entry.data } } : {}),
    event_id: entry.event_id,
  };
}

/** The HTTP representation of an order. */
export function toOrderView({ order, timeline }: OrderWithTimeline): OrderView {
  return {
    id: order.id,
    user_id: order.user_id,
    status: order.status,
    reason: order.reason,
    customer_fullname: order.customer_fullname,
    product_name: productNameOf(order.items),
    total_amount: order.total_amount,
    items: order.items,
    created_at: order.created_at.toISOString(),
    updated_at: order.updated_at.toISOString(),
    trace_id: traceIdOf(order.trace_context),
    timeline,
  };
}
