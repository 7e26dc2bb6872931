import { sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { NotificationDatabase, NotificationsTable } from '../database.js';

type Db = Kysely<NotificationDatabase>;
type Trx = Transaction<NotificationDatabase>;

/** A notification as `GET /notifications` shows it. */
export type NotificationView = Pick<
  Selectable<NotificationsTable>,
  'order_id' | 'kind' | 'recipient' | 'message' | 'details' | 'created_at'
>;

/** The `notificationKey`s of the notifications these orders already have. */
export async function findNotified(trx: Trx, orderIds: readonly string[]): Promise<Set<string>> {
  const rows = await trx
    .selectFrom('notifications')
    .select(['order_id', 'kind'])
    .where(sql<boolean>`order_id = ANY(${orderIds}::text[])`)
    .execute();
  return new Set(rows.map((row) => notificationKey(row.order_id, row.kind)));
}

/**
 * Stores notifications, each unless one of its kind exists for its order (then it does nothing), in one
 * statement.
 */
export async function insertNotifications(
  trx: Trx,
  notifications: readonly Insertable<NotificationsTable>[],
): Promise<void> {
  if (notifications.length === 0) return;
  await trx
    .insertInto('notifications')
    .values([...notifications])
    .onConflict((conflict) => conflict.columns(['order_id', 'kind']).doNothing())
    .execute();
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
