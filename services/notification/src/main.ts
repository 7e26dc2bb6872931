import { runService } from '@platform/service-host';
import { loadNotificationConfig } from './config.js';
import { createNotificationService } from './notification-service.js';

await runService({
  service: 'notification',
  loadConfig: () => loadNotificationConfig(),
  async start(config, logger) {
    const service = await createNotificationService(config, logger);
    return { listen: () => service.app.listen(config.http), stop: () => service.stop() };
  },
});
