import type { FastifyInstance } from 'fastify';
import { fastifyPlugin } from 'fastify-plugin';
import { Histogram, type Registry } from 'prom-client';
import { answerInstanceMetricsRequests } from './instance-metrics.js';

/**
 * Records `http_request_duration_seconds` by method, route template and status, and serves `GET /metrics`
 * (and, in a cluster worker, the supervisor's requests for this instance's metrics).
 */
export const httpMetricsPlugin = fastifyPlugin(
  async (app: FastifyInstance, { registry }: { registry: Registry }) => {
    const duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, route and status code',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });

    app.addHook('onResponse', async (request, reply) => {
      // The route template, never the raw URL, so label cardinality stays bounded.
      const route = request.routeOptions.url ?? 'unmatched';
      duration.observe(
        { method: request.method, route, status_code: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });

    app.get('/metrics', async (_request, reply) => {
      reply.type(registry.contentType);
      return registry.metrics();
    });
    const stopAnswering = answerInstanceMetricsRequests(registry);
    app.addHook('onClose', async () => stopAnswering());
  },
  { name: 'http-metrics' },
);
