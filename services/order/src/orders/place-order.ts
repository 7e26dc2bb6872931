import { createHash } from 'node:crypto';
import type { Order, PlaceOrderCommand } from './order.js';
import type { OrderIntake } from './order-intake.js';

/** What placing an order came to; a reused idempotency key is an expected outcome, not an exception. */
export type PlaceOrderOutcome =
  | { kind: 'placed'; order: Order }
  | { kind: 'replayed'; order: Order }
  | { kind: 'idempotency_key_reused' }
  | { kind: 'overloaded' };

/**
 * Places an order. With an idempotency key, a retry of the same command returns the order the first
 * attempt created, whichever body shape either used; the same key with another command is refused. Keys
 * are scoped per customer (SPEC §5): the same key from two customers places two orders.
 */
export async function placeOrder(
  intake: OrderIntake,
  command: PlaceOrderCommand,
  idempotencyKey: string | null,
): Promise<PlaceOrderOutcome> {
  const requestHash = idempotencyKey === null ? null : hashCommand(command);
  const result = await intake({
    command,
    idempotencyKey: idempotencyKey === null ? null : scopedIdempotencyKey(command.userId, idempotencyKey),
    requestHash,
  });
  if (result.kind === 'overloaded') return result;
  if (result.kind === 'created') return { kind: 'placed', order: result.order };
  return result.owner.requestHash === requestHash
    ? { kind: 'replayed', order: result.owner.order }
    : { kind: 'idempotency_key_reused' };
}

/**
 * The key as stored: the customer's user id, a space, the client's key (user ids never hold a space, so
 * the pair is unambiguous; see migrations/007_idempotency_per_customer.sql).
 */
export function scopedIdempotencyKey(userId: string, key: string): string {
  return `${userId} ${key}`;
}

function hashCommand(command: PlaceOrderCommand): string {
  const canonical = JSON.stringify([
    command.userId,
    command.items.map((item) => [item.productCode, item.quantity]),
    command.requestedTotal,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}
