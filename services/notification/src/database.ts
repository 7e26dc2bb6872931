import type { ColumnType } from 'kysely';
import type { JsonColumn } from '@platform/postgres';
import type { NotificationDetails, NotificationKind } from './notifications/notification.js';

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
