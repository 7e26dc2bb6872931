import { runService } from '@platform/service-host';
import { loadPaymentConfig } from './config.js';
import { createPaymentService } from './payment-service.js';

await runService({
  service: 'payment',
  loadConfig: () => loadPaymentConfig(),
  async start(config, logger) {
    const service = await createPaymentService(config, logger);
    return { listen: () => service.app.listen(config.http), stop: () => service.stop() };
  },
});
