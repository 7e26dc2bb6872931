import { randomUUID } from 'node:crypto';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
} from 'fastify';
import type { Broker } from '@platform/messaging';
import { httpMetricsPlugin, type Logger, type Registry } from '@platform/observability';
import type { Pool } from '@platform/postgres';
import { healthRoutes } from './health.routes.js';

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
    requestIdHeader: 'x-correlation-id',
    logController: new LogController({ requestIdLogLabel: 'correlation_id' }),
    genReqId: () => randomUUID(),
    ajv: { customOptions: { coerceTypes: 'array', allErrors: true } },
  });
  // Node closes only the connections idle when the server closes; one finishing a request then would sit
  // idle until the keep-alive timeout (72 s) and hold the shutdown. Once closing, every response asks the
  // client to hang up.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-correlation-id', request.id);
    if (closing) reply.header('connection', 'close');
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.validation ? 400 : (error.statusCode ?? 500);
    if (status < 500) return reply.code(status).send({ message: error.message });
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ message: 'Internal server error' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ message: `No route ${request.method} ${request.url.split('?')[0] ?? ''}` }),
  );
  await app.register(httpMetricsPlugin, { registry: deps.registry });
  await app.register(healthRoutes, { pool: deps.pool, broker: deps.broker });
  return app;
}
