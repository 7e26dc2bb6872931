import type { Kysely } from 'kysely';
import { Gauge, type Registry } from 'prom-client';
import type { OrderDatabase } from '../database.js';
import { inFlightStats } from './saga.repository.js';

/**
 * The saga's health at a glance: orders not yet final, and the age of the oldest. An oldest age that keeps
 * growing past the saga deadline means the deadline sweep is not running; both come from the partial
 * index of PENDING orders, so a scrape costs the size of the in-flight set, not of the table.
 */
export function createSagaMetrics(registry: Registry, db: Kysely<OrderDatabase>): void {
  let last = { count: 0, oldestAgeSeconds: 0 };
  let pending: Promise<void> | undefined;
  // One query per scrape for both gauges; a scrape while PostgreSQL is down keeps the last values.
  const refresh = (): Promise<void> =>
    (pending ??= inFlightStats(db)
      .then((stats) => {
        last = stats;
      })
      .catch(() => undefined)
      .finally(() => {
        pending = undefined;
      }));
  new Gauge({
    name: 'orders_in_flight',
    help: 'Orders still PENDING (not yet COMPLETED or CANCELLED)',
    registers: [registry],
    async collect() {
      await refresh();
      this.set(last.count);
    },
  });
  new Gauge({
    name: 'orders_oldest_in_flight_age_seconds',
    help: 'Age of the oldest PENDING order (0 when none); stays below the saga deadline when all is well',
    registers: [registry],
    async collect() {
      await refresh();
      this.set(last.oldestAgeSeconds);
    },
  });
}
