// Imported one after the other, tracing first: pg's instrumentation patches the module as it is first
// loaded, and static imports side by side may be evaluated while an asynchronous one (tracing.ts, which
// loads the SDK only when an endpoint is configured) is still starting.
const { tracing } = await import('./tracing.js');

const { runService } = await import('@platform/service-host');
const { loadOrderConfig } = await import('./config.js');
const { createOrderService } = await import('./order-service.js');

await runService({
  service: 'order',
  tracing,
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
