import type { Kysely, Transaction } from 'kysely';
import { readOrderSnapshot, type EventEnvelope, type OrderSnapshot } from '@platform/contracts';
import { handleOnce } from '@platform/inbox';
import type { EventContext, EventHandler } from '@platform/messaging';

/**
 * One handler per event type. A type with no handler is acknowledged and logged: a wildcard binding may
 * bring events the service does not care about, and they must not clog its queue.
 */
export function routeEvents(handlers: Readonly<Record<string, EventHandler>>): EventHandler {
  return async (event, context) => {
    const handler = handlers[event.type];
    if (!handler) {
      context.logger.debug('no handler for this event type; acknowledged');
      return;
    }
    await handler(event, context);
  };
}

/**
 * The usual shape of a saga handler: read the order the event is about, apply the use case in one
 * transaction with the inbox row (a duplicate does nothing), and log what came of it. `afterCommit` runs
 * only when the use case ran and committed (nudging a worker, writing a notification's log line).
 */
export function handleThroughInbox<Database, Outcome extends string>(
  db: Kysely<Database>,
  consumer: string,
  useCase: (trx: Transaction<Database>, order: OrderSnapshot, event: EventEnvelope) => Promise<Outcome>,
  afterCommit?: (outcome: Outcome, order: OrderSnapshot, context: EventContext, event: EventEnvelope) => void,
): EventHandler {
  return async (event, context) => {
    const order = readOrderSnapshot(event);
    const handled = await handleOnce(db, consumer, event, (trx) => useCase(trx, order, event));
    const outcome = handled.duplicate ? 'duplicate' : handled.result;
    context.logger.debug({ outcome }, `${event.type} handled`);
    if (!handled.duplicate) afterCommit?.(handled.result, order, context, event);
  };
}
