import { runService } from '@platform/service-host';
import { loadFulfilmentConfig } from './config.js';
import { createFulfilmentService } from './fulfilment-service.js';

await runService({
  service: 'fulfilment',
  loadConfig: () => loadFulfilmentConfig(),
  async start(config, logger) {
    const service = await createFulfilmentService(config, logger);
    return { listen: () => service.app.listen(config.http), stop: () => service.stop() };
  },
});
