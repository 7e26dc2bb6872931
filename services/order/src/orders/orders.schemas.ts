import { Type, type Static } from 'typebox';
import { Identifier } from '@platform/contracts';
import { productNameOf, type Order } from './order.js';

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

/** The HTTP representation of an order. */
export function toOrderView(order: Order): OrderView {
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
    timeline: order.timeline,
  };
}
