// Imported one after the other, tracing first (see the other services' main.ts).
const { tracing } = await import('./tracing.js');

const { runService } = await import('@platform/service-host');
const { loadConsoleConfig } = await import('./config.js');
const { createConsoleService } = await import('./console-app.js');

await runService({
  service: 'console',
  tracing,
  loadConfig: () => loadConsoleConfig(),
  async start(config, logger) {
    const service = await createConsoleService(config, logger);
    return { listen: () => service.app.listen(config.http), stop: () => service.stop() };
  },
});
