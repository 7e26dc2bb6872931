import type { ColumnType, Generated } from 'kysely';
import type { TraceCarrier } from '@platform/observability';
import type { JsonColumn } from '@platform/postgres';
import type { OrderItem, OrderStatus } from './orders/order.js';

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
  version: ColumnType<number, number, number>;
  priced_at: ColumnType<Date | null, never, Date | null>;
  enrichment_lease_until: ColumnType<Date | null, Date | undefined, Date | null>;
  trace_context: ColumnType<TraceCarrier | null, string | null, never>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, Date>;
}

/** One change of an order (see migrations/005_history.sql): appended, never updated or deleted. */
export interface OrderHistoryTable {
  order_id: string;
  position: number;
  step: string;
  reason: string | null;
  after_final: ColumnType<boolean, boolean | undefined, never>;
  data: JsonColumn<Record<string, unknown> | null> | null;
  event_id: string | null;
  at: ColumnType<Date, never, never>;
}

/** The order service's database, as Kysely sees it (the outbox is written through @platform/outbox). */
export interface OrderDatabase {
  orders: OrdersTable;
  order_history: OrderHistoryTable;
}
