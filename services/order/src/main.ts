import { runService } from '@platform/service-host';
import { loadOrderConfig } from './config.js';
import { createOrderService } from './order-service.js';

await runService({
  service: 'order',
  loadConfig: () => loadOrderConfig(),
  async start(config, logger) {
    const service = await createOrderService(config, logger);
    return {
      async listen() {
        await service.app.listen(config.http);
        // Give the first connection attempt a moment before telling the operator RabbitMQ is missing.
        const brokerUp = await service.broker.connection.onConnect(3_000, true).then(
          () => true,
          () => false,
        );
        if (!brokerUp) {
          logger.warn(
            `RabbitMQ is not reachable yet at ${new URL(config.rabbitmq.url).host}: orders are accepted and ` +
              'their events kept in the outbox until it is (start it with: rabbitmq-server -detached)',
          );
        }
      },
      stop: () => service.stop(),
    };
  },
});
