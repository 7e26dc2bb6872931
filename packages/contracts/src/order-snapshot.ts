import { Type, type Static } from 'typebox';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

/** An item of an order as events carry it; names and prices are null until the order is priced. */
export const OrderItemSnapshotSchema = Type.Object({
  product_code: Type.String({ minLength: 1 }),
  product_name: Nullable(Type.String()),
  quantity: Type.Integer({ minimum: 1 }),
  unit_price: Nullable(Type.Number({ minimum: 0, description: 'In the currency unit (9.99), not cents' })),
});

/**
 * The order as every saga event carries it in `payload.order` (SPEC §3), passed along from service to
 * service so that each has what it needs without asking another. Amounts in the currency unit.
 */
export const OrderSnapshotSchema = Type.Object({
  order_id: Type.String({ minLength: 1 }),
  user_id: Type.String({ minLength: 1 }),
  customer_fullname: Nullable(Type.String()),
  product_name: Nullable(Type.String()),
  total_amount: Nullable(Type.Number({ minimum: 0 })),
  created_at: Type.String({ format: 'date-time' }),
  items: Type.Array(OrderItemSnapshotSchema, { minItems: 1 }),
});

export type OrderItemSnapshot = Static<typeof OrderItemSnapshotSchema>;
export type OrderSnapshot = Static<typeof OrderSnapshotSchema>;
