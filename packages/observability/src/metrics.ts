import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export type { Registry };

/** A registry of its own per service instance (no global default registry), with Node's process metrics. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  // The event loop delay histogram samples every 10 ms by default: a hundred wake-ups a second in every
  // process, the larger part of an idle service's CPU. A tenth of that still shows any real stall.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  return registry;
}

/**
 * Gauges read from one query at scrape time (a backlog, orders in flight): several gauges share one query
 * per scrape, and a scrape while the database is down keeps the last values instead of failing.
 */
export function registerQueryGauges<Key extends string>(
  registry: Registry,
  read: () => Promise<Record<Key, number>>,
  gauges: Record<Key, { name: string; help: string }>,
): void {
  const keys = Object.keys(gauges) as Key[];
  let last = Object.fromEntries(keys.map((key) => [key, 0])) as Record<Key, number>;
  let pending: Promise<void> | undefined;
  const refresh = (): Promise<void> =>
    (pending ??= read()
      .then((values) => {
        last = values;
      })
      .catch(() => undefined)
      .finally(() => {
        pending = undefined;
      }));
  for (const key of keys) {
    new Gauge({
      ...gauges[key],
      registers: [registry],
      // Every instance reads the same rows: the instances' values added up (npm start --replicas) would
      // count the backlog once per instance.
      aggregator: 'max',
      async collect() {
        await refresh();
        this.set(last[key]);
      },
    });
  }
}
