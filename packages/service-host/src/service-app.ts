import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Broker } from '@platform/messaging';
import { httpMetricsPlugin, type Logger, type Registry } from '@platform/observability';
import type { Pool } from '@platform/postgres';
import { healthRoutes } from './health.routes.js';
import { addHttpEdges, correlationIdOptions } from './http-edges.js';

/** What the shared HTTP shell needs. */
export interface ServiceAppDeps {
  logger: Logger;
  registry: Registry;
  pool: Pool;
  broker: Pick<Broker, 'isConnected'>;
}

/**
 * The HTTP shell of a saga service, without listening: correlation ids, health, metrics, one error
 * handler (4xx with a message, 500 without details) and a JSON 404. The service adds its query routes.
 */
export async function buildServiceApp(deps: ServiceAppDeps): Promise<FastifyInstance> {
  const logger: FastifyBaseLogger = deps.logger;
  const app = Fastify({
    loggerInstance: logger,
    ...correlationIdOptions(),
    ajv: { customOptions: { coerceTypes: 'array', allErrors: true } },
  });
  addHttpEdges(app);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.validation ? 400 : (error.statusCode ?? 500);
    if (status < 500) return reply.code(status).send({ message: error.message });
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ message: 'Internal server error' });
  });
  await app.register(httpMetricsPlugin, { registry: deps.registry });
  await app.register(healthRoutes, { pool: deps.pool, broker: deps.broker });
  return app;
}
