import cluster from 'node:cluster';
import type { Registry } from 'prom-client';

/** What a supervisor sends a worker for its metrics: `{ type: INSTANCE_METRICS_REQUEST, id }`. */
export const INSTANCE_METRICS_REQUEST = 'order-platform:instance-metrics-request';
/** A worker's answer: `{ type: INSTANCE_METRICS_RESPONSE, id, metrics }` (prom-client's `getMetricsAsJSON`). */
export const INSTANCE_METRICS_RESPONSE = 'order-platform:instance-metrics-response';

/**
 * In a `node:cluster` worker (an instance `npm start -- --replicas` runs beside others on one port),
 * answers the primary's requests for this instance's metrics over the IPC channel: instances sharing a
 * port cannot be scraped one by one, so the supervisor asks each and adds them up (prom-client's
 * `AggregatorRegistry.aggregate`). Does nothing outside a worker. Returns the function that stops
 * answering.
 */
export function answerInstanceMetricsRequests(registry: Registry): () => void {
  if (!cluster.isWorker) return () => undefined;
  const answer = (message: unknown) => {
    const request = message as { type?: unknown; id?: unknown } | null;
    if (request?.type !== INSTANCE_METRICS_REQUEST) return;
    void registry.getMetricsAsJSON().then(
      (metrics) => process.send?.({ type: INSTANCE_METRICS_RESPONSE, id: request.id, metrics }),
      () => process.send?.({ type: INSTANCE_METRICS_RESPONSE, id: request.id, metrics: [] }),
    );
  };
  process.on('message', answer);
  return () => process.off('message', answer);
}
