import type { Insertable, Kysely, Selectable, Transaction } from 'kysely';
import type { NotificationDatabase, NotificationsTable } from '../database.js';

type Db = Kysely<NotificationDatabase>;
type Trx = Transaction<NotificationDatabase>;

/** A notification as `GET /notifications` shows it. */
export type NotificationView = Pick<
  Selectable<NotificationsTable>,
  'order_id' | 'kind' | 'recipient' | 'message' | 'details' | 'created_at'
>;

/**
 * Stores notifications, each unless one of its kind exists for its order, in one statement; returns the
 * `order_id kind` keys it stored. A concurrent insert of the same key waits for the other transaction and
 * then does nothing.
 */
export async function insertNotifications(
  trx: Trx,
  notifications: readonly Insertable<NotificationsTable>[],
): Promise<Set<string>> {
  if (notifications.length === 0) return new Set();
  const inserted = await trx
    .insertInto('notifications')
    .values([...notifications])
    .onConflict((conflict) => conflict.columns(['order_id', 'kind']).doNothing())
    .returning(['order_id', 'kind'])
    .execute();
  return new Set(inserted.map((row) => notificationKey(row.order_id, row.kind)));
}

/** The key of an order's notification of one kind. */
export const notificationKey = (orderId: string, kind: string): string => `${orderId} ${kind}`;

export async function listNotifications(db: Db, orderId: string): Promise<NotificationView[]> {
  return db
    .selectFrom('notifications')
    .select(['order_id', 'kind', 'recipient', 'message', 'details', 'created_at'])
    .where('order_id', '=', orderId)
    .orderBy('created_at')
    .orderBy('kind')
    .execute();
}
