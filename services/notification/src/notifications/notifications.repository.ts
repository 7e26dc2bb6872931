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
 * Stores a notification unless one of its kind exists for the order; true when this call stored it.
 * A concurrent insert of the same key waits for the other transaction and then does nothing.
 */
export async function insertNotification(
  trx: Trx,
  notification: Insertable<NotificationsTable>,
): Promise<boolean> {
  const inserted = await trx
    .insertInto('notifications')
    .values(notification)
    .onConflict((conflict) => conflict.columns(['order_id', 'kind']).doNothing())
    .returning('order_id')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function listNotifications(db: Db, orderId: string): Promise<NotificationView[]> {
  return db
    .selectFrom('notifications')
    .select(['order_id', 'kind', 'recipient', 'message', 'details', 'created_at'])
    .where('order_id', '=', orderId)
    .orderBy('created_at')
    .orderBy('kind')
    .execute();
}
