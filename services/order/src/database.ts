import type { ColumnType, Generated } from 'kysely';
import type { JsonColumn } from '@platform/postgres';
import type { OrderItem, OrderStatus, TimelineEntry } from './orders/order.js';

export interface OrdersTable {
  id: string;
  seq: Generated<string>;
  user_id: string;
  status: OrderStatus;
  reason: string | null;
  items: JsonColumn<OrderItem[]>;
  customer_fullname: string | null;
  total_amount: number | null;
  requested_total_amount: number | null;
  idempotency_key: string | null;
  request_hash: string | null;
  timeline: JsonColumn<TimelineEntry[]>;
  priced_at: ColumnType<Date | null, never, Date>;
  enrichment_lease_until: ColumnType<Date | null, Date | undefined, Date | null>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, Date>;
}

/** The order service's database, as Kysely sees it (the outbox is written through @platform/outbox). */
export interface OrderDatabase {
  orders: OrdersTable;
}
