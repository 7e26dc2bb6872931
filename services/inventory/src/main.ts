// Imported one after the other, tracing first: pg's instrumentation patches the module as it is first
// loaded, and static imports side by side may be evaluated while an asynchronous one (tracing.ts, which
// loads the SDK only when an endpoint is configured) is still starting.
const { tracing } = await import('./tracing.js');

const { runService } = await import('@platform/service-host');
const { loadInventoryConfig } = await import('./config.js');
const { createInventoryService } = await import('./inventory-service.js');

await runService({
  service: 'inventory',
  tracing,
  loadConfig: () => loadInventoryConfig(),
  async start(config, logger) {
    const service = await createInventoryService(config, logger);
    return { listen: () => service.app.listen(config.http), stop: () => service.stop() };
  },
});
