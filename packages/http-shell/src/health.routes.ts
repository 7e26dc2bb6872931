import type { FastifyPluginAsync } from 'fastify';
import type { Broker } from '@platform/messaging';
import type { Pool } from '@platform/postgres';

/** `live`: the process answers. `ready`: PostgreSQL and RabbitMQ are reachable (SPEC §2, §5). */
export const healthRoutes: FastifyPluginAsync<{ pool: Pool; broker: Pick<Broker, 'isConnected'> }> = async (
  app,
  { pool, broker },
) => {
  // Probed every few seconds by supervisors and orchestrators: a log line per probe would drown the rest.
  app.get('/health/live', { logLevel: 'silent' }, () => ({ status: 'ok' }));

  app.get('/health/ready', { logLevel: 'silent' }, async (_request, reply) => {
    const postgres = await pool
      .query('SELECT 1')
      .then(() => 'up' as const)
      .catch(() => 'down' as const);
    const rabbitmq = broker.isConnected() ? ('up' as const) : ('down' as const);
    const ready = postgres === 'up' && rabbitmq === 'up';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', postgres, rabbitmq });
  });
};
