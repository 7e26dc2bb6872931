import type { Broker } from '@platform/messaging';
import type { Logger } from '@platform/observability';
import { commitWith, createTransactionRunner, type Pool, type Transact } from '@platform/postgres';
import type { OutboxMetrics } from './outbox.metrics.js';
import {
  collectAppended,
  deletePublished,
  deletePublishedWith,
  type OutboxMessage,
} from './outbox.repository.js';

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
export interface OutboxPublisher<Database> {
  /**
   * Runs `work` in a pipelined transaction (`createTransactionRunner`) and publishes the events it
   * appended to the outbox once it committed; the rows the broker confirmed since the last transaction are
   * deleted with its COMMIT.
   */
  transact: Transact<Database>;
  /** Waits for publications in flight and for the deletion of the rows they confirmed. */
  close(): Promise<void>;
}

/**
 * How long confirmed ids wait for a transaction to delete them with, in ms, before they are deleted by a
 * statement of their own. Under any load some transaction comes sooner (issue 21: a delete of its own per
 * burst of publications was a commit per event, a sixth of all commits at ten sagas a second); only a
 * quiet service pays the statement. Well under the relay's minimum age (2 s), so the relay does not take
 * a confirmed row meanwhile.
 */
const DELETE_DELAY_MS = 500;

/**
 * Publishes outbox rows from the process that wrote them, right after their transaction commits, without
 * waiting for the relay: one hop of the saga costs no relay round trips, and no NOTIFY. The rows are
 * still written in the transaction (SPEC §4.1), and a row is deleted only after the broker confirmed it,
 * by the next transaction of the service (with its COMMIT, no round trip of its own) or, in a quiet half
 * second, by a statement of its own. What is not confirmed (the broker is down, the process dies) stays
 * in the outbox for the relay, which takes rows older than a few seconds: at least once, and the
 * consumers' inboxes absorb the rare duplicate (a crash between confirm and delete).
 */
export function createOutboxPublisher<Database>(options: OutboxPublisherOptions): OutboxPublisher<Database> {
  const { pool, broker, logger, metrics } = options;
  const run = createTransactionRunner<Database>(pool);
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
    if (deleting || deleteTimer || confirmed.length === 0) return;
    deleteTimer = setTimeout(() => {
      deleteTimer = undefined;
      deleting = deleteConfirmed().finally(() => {
        deleting = undefined;
        scheduleDelete();
      });
    }, DELETE_DELAY_MS);
  }

  /** The confirmed ids, taken for a transaction to delete; given back if it fails. */
  function takeConfirmed(): string[] {
    const ids = confirmed;
    confirmed = [];
    clearTimeout(deleteTimer);
    deleteTimer = undefined;
    return ids;
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
    async transact(work) {
      let messages: OutboxMessage[] = [];
      let deletedWith: string[] = [];
      try {
        const result = await run(async (trx) => {
          messages = collectAppended(trx);
          const value = await work(trx);
          // Rows published before, deleted with this COMMIT (no round trip, no commit of their own).
          deletedWith = takeConfirmed();
          if (deletedWith.length > 0) commitWith(trx, deletePublishedWith(trx, deletedWith));
          return value;
        });
        publish(messages);
        return result;
      } catch (error) {
        confirmed.push(...deletedWith);
        scheduleDelete();
        throw error;
      }
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
