import type { ColumnType } from 'kysely';
import type { JsonColumn } from '@platform/postgres';

/** The events the customer hears about (SPEC §2); each is also the `kind` of its notification. */
export type NotificationKind =
  'order.completed' | 'order.cancelled' | 'payment.processed' | 'payment.failed' | 'payment.refunded';

/** What a notification adds to its sentence, for operators and tests: only the keys the event carried. */
export interface NotificationDetails {
  reason?: string;
  amount?: number;
  total_amount?: number;
  product_name?: string;
  charge_id?: string;
  refund_id?: string;
}

export interface NotificationsTable {
  order_id: string;
  kind: NotificationKind;
  event_id: string;
  recipient: string;
  customer_fullname: string | null;
  message: string;
  details: JsonColumn<NotificationDetails>;
  created_at: ColumnType<Date, never, never>;
}

/** The notification database, as Kysely sees it (the inbox is written through its package). */
export interface NotificationDatabase {
  notifications: NotificationsTable;
}
