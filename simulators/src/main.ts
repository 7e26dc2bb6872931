import { ConfigError } from '@platform/config';
import { createLogger } from '@platform/observability';
import { loadSimulatorsConfig, type SimulatorsConfig } from './config.js';
import { loadProfile, ProfileError, type Profile } from './profile.js';
import { startSimulators, type RunningSimulators, type SimulatorName } from './simulators.js';

let config: SimulatorsConfig;
try {
  config = loadSimulatorsConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
const logger = createLogger({ service: 'simulators', level: config.logLevel });

let profile: Profile;
try {
  profile = await loadProfile(config.profile);
} catch (error) {
  if (!(error instanceof ProfileError)) throw error;
  logger.fatal(`${error.message}\n(set by SIMULATORS_PROFILE)`);
  process.exit(1);
}

let simulators: RunningSimulators;
try {
  simulators = await startSimulators({
    profile,
    host: config.host,
    ports: config.ports,
    // Health probes (a supervisor polls them) would drown the requests worth seeing.
    onRequest: (entry) => {
      if (entry.url !== '/health') logger.debug(entry, 'request');
    },
  });
} catch (error) {
  // The message already names the simulator, address and cause; a stack would add nothing for an operator.
  logger.fatal(
    `${(error as Error).message} (ports: PRODUCT_SERVICE_PORT, USER_SERVICE_PORT, PAYMENT_GATEWAY_PORT, FULFILMENT_PARTNER_PORT)`,
  );
  process.exit(1);
}

for (const [name, url] of Object.entries(simulators.urls) as [SimulatorName, string][]) {
  logger.info({ simulator: name, url }, `${name} simulator listening on ${url}`);
}
logger.info({ profile: config.profile }, `simulators ready with profile ${config.profile}`);

// Ctrl-C reaches a whole process group and a supervisor may add its own SIGTERM: shut down once.
let shuttingDown = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down');
    // close() drops pending delayed answers at once; a client waiting on family-box gets a reset, not 60 s.
    simulators.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
