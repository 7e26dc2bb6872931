import type { Kysely } from 'kysely';
import { registerQueryGauges, type Registry } from '@platform/observability';
import type { OrderDatabase } from '../database.js';
import { inFlightStats } from './saga.repository.js';

/**
 * The saga's health at a glance: orders not yet final, and the age of the oldest. An oldest age that keeps
 * growing past the saga deadline means the deadline sweep is not running; both come from the partial
 * index of PENDING orders, so a scrape costs the size of the in-flight set, not of the table.
 */
export function createSagaMetrics(registry: Registry, db: Kysely<OrderDatabase>): void {
  registerQueryGauges(registry, () => inFlightStats(db), {
    count: { name: 'orders_in_flight', help: 'Orders still PENDING (not yet COMPLETED or CANCELLED)' },
    oldestAgeSeconds: {
      name: 'orders_oldest_in_flight_age_seconds',
      help: 'Age of the oldest PENDING order (0 when none); stays below the saga deadline when all is well',
    },
  });
}
