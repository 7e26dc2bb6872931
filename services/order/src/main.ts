import { createLogger } from '@platform/observability';
import { loadOrderConfig } from './config.js';
import { createOrderService } from './order-service.js';

const config = loadOrderConfig();
const logger = createLogger({ service: 'order', level: config.logLevel });
const service = await createOrderService(config, logger);
await service.app.listen({ host: config.http.host, port: config.http.port });

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'shutting down');
    service.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
