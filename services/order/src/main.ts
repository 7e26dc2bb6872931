import { ConfigError } from '@platform/config';
import { createLogger } from '@platform/observability';
import { loadOrderConfig, type OrderConfig } from './config.js';
import { createOrderService } from './order-service.js';

let config: OrderConfig;
try {
  config = loadOrderConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
const logger = createLogger({ service: 'order', level: config.logLevel });

const service = await createOrderService(config, logger).catch((error: unknown) => {
  const code = (error as { code?: string }).code;
  const unreachable = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT';
  logger.fatal(
    { err: error },
    unreachable
      ? `PostgreSQL is not reachable at ${new URL(config.databaseUrl).host}: start it (on this machine: ` +
          `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) or set ORDER_DATABASE_URL`
      : 'order service failed to start',
  );
  process.exit(1);
});
await service.app.listen({ host: config.http.host, port: config.http.port }).catch(async (error: unknown) => {
  logger.fatal({ err: error }, `cannot listen on ${config.http.host}:${config.http.port} (ORDER_PORT)`);
  await service.stop();
  process.exit(1);
});
// Give the first connection attempt a moment before telling the operator RabbitMQ is missing.
const brokerUp = await service.broker.connection.onConnect(3_000, true).then(
  () => true,
  () => false,
);
if (!brokerUp) {
  logger.warn(
    `RabbitMQ is not reachable yet at ${new URL(config.rabbitmq.url).host}: orders are accepted and their ` +
      'events kept in the outbox until it is (start it with: rabbitmq-server -detached)',
  );
}

// Ctrl-C reaches a whole process group and a supervisor may add its own SIGTERM: shut down once.
let shuttingDown = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down');
    // In-flight work gets a bounded time; a dependency that hangs must not keep the process alive forever.
    setTimeout(() => {
      logger.error('shutdown took longer than 15 s, exiting');
      process.exit(1);
    }, 15_000).unref();
    service.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
