import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What the enrichment reports about the third parties it depends on. */
export interface ThirdPartyMetrics {
  callDuration: Histogram<'dependency' | 'outcome'>;
  retries: Counter<'dependency'>;
  openCircuits: Gauge<'dependency'>;
  productCache: Counter<'result'>;
}

/** Registers the third-party metrics of one service (once per registry). */
export function createThirdPartyMetrics(registry: Registry): ThirdPartyMetrics {
  return {
    callDuration: new Histogram({
      name: 'third_party_call_duration_seconds',
      help: 'Calls to third parties by dependency and outcome (found, not_found, unavailable, circuit_open, rejected)',
      labelNames: ['dependency', 'outcome'] as const,
      buckets: [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 5],
      registers: [registry],
    }),
    retries: new Counter({
      name: 'third_party_retries_total',
      help: 'Lookups asked again after a transient failure',
      labelNames: ['dependency'] as const,
      registers: [registry],
    }),
    openCircuits: new Gauge({
      name: 'third_party_open_circuits',
      help: 'Circuit breakers currently open, by dependency (one breaker per product code or user id)',
      labelNames: ['dependency'] as const,
      registers: [registry],
    }),
    productCache: new Counter({
      name: 'product_cache_lookups_total',
      help: 'Product lookups answered from the cache (hit), by a call already in flight (shared), or by a new call (miss)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
  };
}
