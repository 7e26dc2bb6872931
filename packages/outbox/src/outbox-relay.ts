import { backoffMs } from '@platform/backoff';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Broker } from '@platform/messaging';
import type { Logger } from '@platform/observability';
import type { Pool } from '@platform/postgres';
import type { OutboxMetrics } from './outbox.metrics.js';
import { claimUnpublished, deletePublished, hasRowsOlderThan } from './outbox.repository.js';

/** Backoff after failures: 200 ms, doubling, up to 10 s. */
const RETRY_BACKOFF = { baseMs: 100, maxMs: 10_000 };
/** How many poll intervals the relay waits at most between looks while it keeps finding nothing. */
const IDLE_BACKOFF_LIMIT = 10;

class BrokerUnavailable extends Error {
  constructor() {
    super('broker not connected');
  }
}

/** What a relay needs: the service's pool and broker, and how eagerly to work. */
export interface OutboxRelayOptions {
  pool: Pool;
  broker: Pick<Broker, 'publishAll' | 'isConnected'>;
  logger: Logger;
  metrics?: OutboxMetrics;
  /** Extra routing keys by routing key: see `OutboxPublisherOptions.ccRoutingKeys`. */
  ccRoutingKeys?: (routingKey: string) => readonly string[] | undefined;
  /** Rows claimed and published per transaction. */
  batchSize?: number;
  /**
   * How often to look for rows left behind, in ms; the wait doubles after each look that found nothing, up
   * to ten times this.
   */
  pollIntervalMs?: number;
  /**
   * Rows younger than this (ms) are left alone: their writer publishes them right after its commit. Only
   * what it could not publish (its crash, a broker outage) grows older.
   */
  minAgeMs?: number;
}

/** A running relay. */
export interface OutboxRelay {
  /** Finishes the batch in flight, then stops; unpublished rows stay for the next start. */
  stop(): Promise<void>;
}

/**
 * The safety net of the outbox: publishes the rows their writer did not (see `createOutboxPublisher`),
 * oldest first. A row is deleted only after the broker confirmed it; rows are claimed with FOR UPDATE
 * SKIP LOCKED, so relays in several processes share the work without publishing a row twice. The only
 * duplicate left is a crash between confirm and commit, which consumers absorb by de-duplicating on the
 * event id. It polls, with one cheap query when there is nothing to do.
 */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { pool, broker, logger, metrics } = options;
  const batchSize = options.batchSize ?? 200;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const minAgeMs = options.minAgeMs ?? 2_000;

  let stopped = false;
  // Read through a function: TypeScript would otherwise narrow the flag to `false` across the loop's awaits.
  const isStopped = (): boolean => stopped;
  const stopSignal = new AbortController();

  /** Publishes one batch; returns how many rows it claimed, and throws after committing partial success. */
  async function publishBatch(): Promise<number> {
    const client = await pool.connect();
    let results: PromiseSettledResult<void>[];
    let claimed: number;
    try {
      await client.query('BEGIN');
      const rows = await claimUnpublished(client, batchSize, minAgeMs);
      claimed = rows.length;
      results = await broker.publishAll(
        rows.map((row) => ({
          messageId: row.id,
          routingKey: row.routing_key,
          correlationId: row.correlation_id,
          cc: options.ccRoutingKeys?.(row.routing_key),
          body: row.message,
          traceContext: row.trace_context,
        })),
      );
      // Confirmed rows go even when others in the batch failed, so they are not sent again.
      const confirmed = rows.filter((_, i) => results[i]?.status === 'fulfilled').map((row) => row.id);
      if (confirmed.length > 0) await deletePublished(client, confirmed);
      await client.query('COMMIT');
      metrics?.published.inc(confirmed.length);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      // The connection may be what failed: destroy it rather than hand it to the next caller.
      client.release(true);
      throw error;
    }
    client.release();
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failures[0]) {
      metrics?.publishFailures.inc(failures.length);
      throw failures[0].reason;
    }
    return claimed;
  }

  async function run(): Promise<void> {
    let failures = 0;
    // Looks that found nothing in a row: the wait grows with them (up to ten poll intervals), so an idle
    // service costs next to nothing, and shrinks back as soon as a row was left behind.
    let emptyLooks = 0;
    while (!isStopped()) {
      let wait = pollIntervalMs * Math.min(IDLE_BACKOFF_LIMIT, 2 ** emptyLooks);
      try {
        if (await hasRowsOlderThan(pool, minAgeMs)) {
          emptyLooks = 0;
          wait = pollIntervalMs;
          if (!broker.isConnected()) throw new BrokerUnavailable();
          while (!isStopped() && (await publishBatch()) === batchSize) {
            // a full batch: more may be waiting
          }
        } else {
          emptyLooks += 1;
        }
        failures = 0;
      } catch (error) {
        failures += 1;
        // Full jitter keeps several relays from retrying in lockstep against a recovering broker.
        wait = backoffMs(failures + 1, RETRY_BACKOFF, 'full');
        // The broker connection logs its own outage; repeating it on every retry would only add noise.
        const level = error instanceof BrokerUnavailable ? 'debug' : 'warn';
        logger[level]({ err: error, failures, backoffMs: Math.round(wait) }, 'outbox relay failed, retrying');
      }
      await sleep(wait, undefined, { signal: stopSignal.signal }).catch(() => undefined);
    }
  }

  const running = run();

  return {
    async stop() {
      stopped = true;
      stopSignal.abort();
      await running;
    },
  };
}
