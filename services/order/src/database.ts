import type { ColumnType, Generated } from 'kysely';
import type { OrderItem, OrderStatus, TimelineEntry } from './orders/order.js';

/** Columns written as JSON text, read back parsed. */
type Json<T> = ColumnType<T, string, string>;

export interface OrdersTable {
  id: string;
  seq: Generated<string>;
  user_id: string;
  status: OrderStatus;
  reason: string | null;
  items: Json<OrderItem[]>;
  customer_fullname: string | null;
  total_amount: number | null;
  requested_total_amount: number | null;
  idempotency_key: string | null;
  request_hash: string | null;
  timeline: Json<TimelineEntry[]>;
  priced_at: ColumnType<Date | null, never, Date>;
  enrichment_lease_until: ColumnType<Date | null, never, Date | null>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, Date>;
}

/** The order service's database, as Kysely sees it (the outbox is written through @platform/outbox). */
export interface OrderDatabase {
  orders: OrdersTable;
}
