import { runService } from '@platform/service-host';
import { loadInventoryConfig } from './config.js';
import { createInventoryService } from './inventory-service.js';

await runService({
  service: 'inventory',
  loadConfig: () => loadInventoryConfig(),
  async start(config, logger) {
    const service = await createInventoryService(config, logger);
    return { listen: () => service.app.listen(config.http), stop: () => service.stop() };
  },
});
