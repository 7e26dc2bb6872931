import type { Kysely, Transaction } from 'kysely';
import type { Broker } from '@platform/messaging';
import type { Logger } from '@platform/observability';
import type { Pool } from '@platform/postgres';
import type { OutboxMetrics } from './outbox.metrics.js';
import { collectAppended, deletePublished, type OutboxMessage } from './outbox.repository.js';

/** What a publisher needs: the service's pool and broker. */
export interface OutboxPublisherOptions {
  pool: Pool;
  broker: Pick<Broker, 'publishAll' | 'isConnected'>;
  logger: Logger;
  metrics?: OutboxMetrics;
  /**
   * Extra routing keys a message is also delivered under, by its routing key (sent as the CC header, so
   * one publish reaches them); a domain rule, e.g. `@platform/contracts`' `ccRoutingKeysOf`.
   */
  ccRoutingKeys?: (routingKey: string) => readonly string[] | undefined;
}

/** A service's publisher of committed outbox rows. */
export interface OutboxPublisher {
  /** Runs `work` in a transaction and publishes the events it appended to the outbox once it committed. */
  transact: <Database, T>(
    db: Kysely<Database>,
    work: (trx: Transaction<Database>) => Promise<T>,
  ) => Promise<T>;
  /** Waits for publications in flight and for the deletion of the rows they confirmed. */
  close(): Promise<void>;
}

/**
 * How long confirmed ids wait to be deleted together, in ms: one statement (one commit) for a quarter of a
 * second's rows, where deleting after every publication was a commit per transaction again (half of all
 * commits at 250 orders/s, issue 9). A row confirmed but not yet deleted is younger than the relay's
 * minimum age, so the relay does not take it meanwhile.
 */
const DELETE_DELAY_MS = 250;
/** Confirmed ids that are deleted at once, without waiting for the delay. */
const DELETE_AT_ONCE = 2_000;

/**
 * Publishes outbox rows from the process that wrote them, right after their transaction commits, without
 * waiting for the relay: one hop of the saga costs no relay round trips, and no NOTIFY. The rows are
 * still written in the transaction (SPEC §4.1), and a row is deleted only after the broker confirmed it,
 * a few confirmed rows in one statement. What is not confirmed (the broker is down, the process dies)
 * stays in the outbox for the relay, which takes rows older than a few seconds: at least once, and the
 * consumers' inboxes absorb the rare duplicate (a crash between confirm and delete).
 */
export function createOutboxPublisher(options: OutboxPublisherOptions): OutboxPublisher {
  const { pool, broker, logger, metrics } = options;
  const inFlight = new Set<Promise<void>>();
  let confirmed: string[] = [];
  let deleting: Promise<void> | undefined;
  let deleteTimer: NodeJS.Timeout | undefined;

  function publish(messages: OutboxMessage[]): void {
    // Without a connection each publish would wait for one; the relay takes these rows once it is back.
    if (messages.length === 0 || !broker.isConnected()) return;
    const publishing = broker
      .publishAll(
        messages.map((message) => ({
          messageId: message.id,
          routingKey: message.routing_key,
          correlationId: message.correlation_id,
          cc: options.ccRoutingKeys?.(message.routing_key),
          body: message.message,
          traceContext: message.trace_context,
        })),
      )
      .then((results) => {
        const failures = results.filter((result) => result.status === 'rejected').length;
        messages.forEach((message, i) => {
          if (results[i]?.status === 'fulfilled') confirmed.push(message.id);
        });
        metrics?.published.inc(messages.length - failures);
        if (failures > 0) {
          metrics?.publishFailures.inc(failures);
          logger.debug({ failures }, 'publishing after commit failed; the relay will publish them');
        }
        scheduleDelete();
      });
    inFlight.add(publishing);
    void publishing.finally(() => inFlight.delete(publishing));
  }

  function scheduleDelete(): void {
    if (deleting || confirmed.length === 0) return;
    const now = confirmed.length >= DELETE_AT_ONCE;
    if (deleteTimer && !now) return;
    clearTimeout(deleteTimer);
    deleteTimer = setTimeout(
      () => {
        deleteTimer = undefined;
        deleting = deleteConfirmed().finally(() => {
          deleting = undefined;
          scheduleDelete();
        });
      },
      now ? 0 : DELETE_DELAY_MS,
    );
  }

  async function deleteConfirmed(): Promise<void> {
    const ids = confirmed;
    confirmed = [];
    try {
      await deletePublished(pool, ids);
    } catch (error) {
      // Kept for the next try; if this process dies first, the relay publishes them again (a duplicate
      // the inboxes absorb).
      confirmed.push(...ids);
      logger.warn({ err: error, rows: ids.length }, 'could not delete published outbox rows; trying again');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }

  return {
    async transact(db, work) {
      let messages: OutboxMessage[] = [];
      const result = await db.transaction().execute((trx) => {
        messages = collectAppended(trx);
        return work(trx);
      });
      publish(messages);
      return result;
    },
    async close() {
      await Promise.all(inFlight);
      clearTimeout(deleteTimer);
      deleteTimer = undefined;
      await deleting;
      if (confirmed.length > 0) await deleteConfirmed();
    },
  };
}
