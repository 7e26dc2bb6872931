import type { FastifyPluginAsync } from 'fastify';
import type { Broker } from '@platform/messaging';
import type { Pool } from '@platform/postgres';

/**
 * How long readiness waits for PostgreSQL's answer, in ms: a frozen server keeps its socket open and never
 * answers, and a probe that hangs is a probe that times out at the orchestrator instead of saying why.
 */
const READY_QUERY_TIMEOUT_MS = 2_000;

/**
 * `live`: the process answers. `ready`: PostgreSQL answers within READY_QUERY_TIMEOUT_MS and RabbitMQ is
 * connected (SPEC §2, §5).
 */
export const healthRoutes: FastifyPluginAsync<{ pool: Pool; broker: Pick<Broker, 'isConnected'> }> = async (
  app,
  { pool, broker },
) => {
  // Probed every few seconds by supervisors and orchestrators: a log line per probe would drown the rest.
  app.get('/health/live', { logLevel: 'silent' }, () => ({ status: 'ok' }));

  app.get('/health/ready', { logLevel: 'silent' }, async (_request, reply) => {
    let timer: NodeJS.Timeout | undefined;
    const postgres = await Promise.race([
      pool.query('SELECT 1').then(
        () => 'up' as const,
        () => 'down' as const,
      ),
      new Promise<'down'>((resolve) => {
        timer = setTimeout(() => resolve('down'), READY_QUERY_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    const rabbitmq = broker.isConnected() ? ('up' as const) : ('down' as const);
    const ready = postgres === 'up' && rabbitmq === 'up';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', postgres, rabbitmq });
  });
};
