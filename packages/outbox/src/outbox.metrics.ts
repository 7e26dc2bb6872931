import { Counter, type Registry } from 'prom-client';
import { registerQueryGauges } from '@platform/observability';
import type { Pool } from '@platform/postgres';
import { backlogStats } from './outbox.repository.js';

/** Counters the relay updates; the backlog gauges are read from the database at scrape time. */
export interface OutboxMetrics {
  published: Counter;
  publishFailures: Counter;
}

/** Registers the outbox metrics of one service (once per registry). */
export function createOutboxMetrics(registry: Registry, pool: Pool): OutboxMetrics {
  registerQueryGauges(registry, () => backlogStats(pool), {
    size: { name: 'outbox_backlog_messages', help: 'Outbox rows not yet confirmed by the broker' },
    oldestAgeSeconds: {
      name: 'outbox_oldest_unpublished_age_seconds',
      help: 'Age of the oldest outbox row not yet confirmed by the broker (0 when none)',
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
