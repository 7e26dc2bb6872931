import { setTimeout as sleep } from 'node:timers/promises';
import { CC_ROUTING_KEYS } from '@platform/contracts';
import type { Broker } from '@platform/messaging';
import type { Logger } from '@platform/observability';
import type { Pool } from '@platform/postgres';
import type pg from 'pg';
import type { OutboxMetrics } from './outbox.metrics.js';
import { claimUnpublished, deletePublished } from './outbox.repository.js';

/** Ceiling of the exponential backoff after failures. */
const MAX_BACKOFF_MS = 10_000;

class BrokerUnavailable extends Error {
  constructor() {
    super('broker not connected');
  }
}

/** What a relay needs: the service's pool and broker, and how eagerly to work. */
export interface OutboxRelayOptions {
  pool: Pool;
  broker: Pick<Broker, 'publish' | 'isConnected'>;
  logger: Logger;
  metrics?: OutboxMetrics;
  /** Rows claimed and published per transaction. */
  batchSize?: number;
  /** Safety-net wake-up when no notification arrives (a missed NOTIFY, a lost listener connection). */
  pollIntervalMs?: number;
}

/** A running relay. */
export interface OutboxRelay {
  /** Finishes the batch in flight, then stops; unpublished rows stay for the next start. */
  stop(): Promise<void>;
}

/**
 * Publishes outbox rows to the broker, oldest first. A row is deleted only after the broker confirmed it; rows are claimed with FOR UPDATE SKIP LOCKED, so relays in several processes share the work
 * without publishing a row twice. The only duplicate left is a crash between confirm and commit, which
 * consumers absorb by de-duplicating on the event id.
 */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { pool, broker, logger, metrics } = options;
  const batchSize = options.batchSize ?? 200;
  const pollIntervalMs = options.pollIntervalMs ?? 2_000;

  let stopped = false;
  // Read through a function: TypeScript would otherwise narrow the flag to `false` across the loop's awaits.
  const isStopped = (): boolean => stopped;
  let dirty = true; // drain at start: rows may have been written while no relay ran
  let wake: (() => void) | undefined;
  const stopSignal = new AbortController();
  let listener: pg.PoolClient | undefined;

  const nudge = (): void => {
    dirty = true;
    wake?.();
  };

  /** Drops the listening connection (destroyed, never returned to the pool still listening). */
  function dropListener(client: pg.PoolClient, error?: Error): void {
    if (listener !== client) return; // already dropped: pg may report one failure more than once
    listener = undefined;
    client.off('notification', nudge);
    client.release(error ?? true);
  }

  /** Listens for NOTIFY on a connection of its own; without one the relay still works, by polling. */
  async function listen(): Promise<void> {
    if (listener || stopped) return;
    const client = await pool.connect();
    listener = client;
    client.on('notification', nudge);
    client.on('error', (error) => {
      logger.warn({ err: error }, 'outbox listener connection lost');
      dropListener(client, error);
    });
    try {
      await client.query('LISTEN outbox');
    } catch (error) {
      dropListener(client, error as Error);
      throw error;
    }
    // Rows committed before LISTEN took effect sent no notification we could hear.
    nudge();
  }

  /** Publishes one batch; returns how many rows it claimed, and throws after committing partial success. */
  async function publishBatch(): Promise<number> {
    const client = await pool.connect();
    let results: PromiseSettledResult<void>[];
    let claimed: number;
    try {
      await client.query('BEGIN');
      const rows = await claimUnpublished(client, batchSize);
      claimed = rows.length;
      results = await Promise.allSettled(
        rows.map((row) =>
          broker.publish({
            messageId: row.id,
            routingKey: row.routing_key,
            correlationId: row.correlation_id,
            cc: CC_ROUTING_KEYS[row.routing_key],
            body: row.message,
          }),
        ),
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

  function waitForWork(ms: number): Promise<void> {
    if (dirty || stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!isStopped()) {
      await waitForWork(pollIntervalMs);
      if (isStopped()) break;
      dirty = false;
      try {
        await listen().catch((error: unknown) => {
          logger.warn({ err: error }, 'outbox listener unavailable, polling meanwhile');
        });
        if (!broker.isConnected()) throw new BrokerUnavailable();
        while (!isStopped() && (await publishBatch()) === batchSize) {
          // a full batch: more may be waiting
        }
        failures = 0;
      } catch (error) {
        failures += 1;
        dirty = true;
        // Full jitter keeps several relays from retrying in lockstep against a recovering broker.
        const backoff = Math.random() * Math.min(MAX_BACKOFF_MS, 100 * 2 ** failures);
        // The broker connection logs its own outage; repeating it on every retry would only add noise.
        const level = error instanceof BrokerUnavailable ? 'debug' : 'warn';
        logger[level](
          { err: error, failures, backoffMs: Math.round(backoff) },
          'outbox relay failed, retrying',
        );
        await sleep(backoff, undefined, { signal: stopSignal.signal }).catch(() => undefined);
      }
    }
  }

  const running = run();

  return {
    async stop() {
      stopped = true;
      stopSignal.abort();
      wake?.();
      await running;
      if (listener) dropListener(listener);
    },
  };
}
