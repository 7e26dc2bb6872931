import { ConfigError } from '@platform/config';
import { createLogger, type Logger } from '@platform/observability';

/** A started service as `runService` drives it. */
export interface RunningService {
  /** Starts listening; resolves with nothing once it does. */
  listen(): Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * The process around a service (its `main.ts`): parse the configuration (a bad one prints every problem
 * and exits 1), start, listen, and shut down once on SIGTERM or SIGINT, within a bounded time.
 */
export async function runService<Config extends { logLevel: string; databaseUrl: string }>(options: {
  service: string;
  loadConfig(): Config;
  start(config: Config, logger: Logger): Promise<RunningService>;
  shutdownTimeoutMs?: number;
}): Promise<void> {
  let config: Config;
  try {
    config = options.loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
  const logger = createLogger({ service: options.service, level: config.logLevel });
  const service = await options.start(config, logger).catch((error: unknown) => {
    const code = (error as { code?: string }).code;
    const unreachable = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT';
    logger.fatal(
      { err: error },
      unreachable
        ? `PostgreSQL is not reachable at ${new URL(config.databaseUrl).host}: start it (on this machine: ` +
            'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) or fix the database URL'
        : `${options.service} service failed to start`,
    );
    process.exit(1);
  });
  await service.listen().catch(async (error: unknown) => {
    logger.fatal({ err: error }, 'cannot listen on the configured port');
    await service.stop();
    process.exit(1);
  });

  // Ctrl-C reaches a whole process group and a supervisor may add its own SIGTERM: shut down once.
  let shuttingDown = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (shuttingDown) return;
      shuttingDown = true;
      logger.info({ signal }, 'shutting down');
      // In-flight work gets a bounded time; a dependency that hangs must not keep the process alive.
      const limit = options.shutdownTimeoutMs ?? 15_000;
      setTimeout(() => {
        logger.error(`shutdown took longer than ${limit} ms, exiting`);
        process.exit(1);
      }, limit).unref();
      service.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}
