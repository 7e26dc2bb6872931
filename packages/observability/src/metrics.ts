import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export type { Registry };

/** A registry of its own per service instance (no global default registry), with Node's process metrics. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  // The event loop delay histogram samples with a timer: every 10 ms by default, a hundred wake-ups a
  // second in every process. On the virtual machines measured here a wake-up costs a Node process 150 to
  // 450 µs of CPU (issue 21), so even 100 ms was most of an idle service's CPU and a wake-up per order per
  // process at ten orders a second. Once a second still shows any stall worth an alert.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1_000 });
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
