import { Registry, collectDefaultMetrics } from 'prom-client';

export type { Registry };

/** A registry of its own per service instance (no global default registry), with Node's process metrics. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
