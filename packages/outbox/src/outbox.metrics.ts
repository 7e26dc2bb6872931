import { Counter, Gauge, type Registry } from 'prom-client';
import type { Pool } from '@platform/postgres';
import { backlogStats } from './outbox.repository.js';

/** Counters the relay updates; the backlog gauges are read from the database at scrape time. */
export interface OutboxMetrics {
  published: Counter;
  publishFailures: Counter;
}

/** Registers the outbox metrics of one service (once per registry). */
export function createOutboxMetrics(registry: Registry, pool: Pool): OutboxMetrics {
  let last = { size: 0, oldestAgeSeconds: 0 };
  let pending: Promise<void> | undefined;
  // Both gauges come from one query per scrape; a scrape while PostgreSQL is down keeps the last values.
  const refresh = (): Promise<void> =>
    (pending ??= backlogStats(pool)
      .then((stats) => {
        last = stats;
      })
      .catch(() => undefined)
      .finally(() => {
        pending = undefined;
      }));

  new Gauge({
    name: 'outbox_backlog_messages',
    help: 'Outbox rows not yet confirmed by the broker',
    registers: [registry],
    async collect() {
      await refresh();
      this.set(last.size);
    },
  });
  new Gauge({
    name: 'outbox_oldest_unpublished_age_seconds',
    help: 'Age of the oldest outbox row not yet confirmed by the broker (0 when none)',
    registers: [registry],
    async collect() {
      await refresh();
      this.set(last.oldestAgeSeconds);
    },
  });
  return {
    published: new Counter({
      name: 'outbox_published_total',
      help: 'Outbox messages confirmed by the broker',
      registers: [registry],
    }),
    publishFailures: new Counter({
      name: 'outbox_publish_failures_total',
      help: 'Outbox messages the broker did not confirm (left for a later attempt)',
      registers: [registry],
    }),
  };
}
