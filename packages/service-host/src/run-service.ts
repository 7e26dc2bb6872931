import { ConfigError } from '@platform/config';
import { createLogger, type Logger, type Tracing } from '@platform/observability';

/** A started service as `runService` drives it. */
export interface RunningService {
  /** Starts listening; resolves with nothing once it does. */
  listen(): Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * The process around a service (its `main.ts`): parse the configuration (a bad one prints every problem
 * and exits 1), start, listen, and shut down once on SIGTERM or SIGINT, within a bounded time; with
 * `tracing` on, log lines carry trace ids and the spans still buffered are exported before the exit.
 */
export async function runService<Config extends { logLevel: string; databaseUrl?: string }>(options: {
  service: string;
  tracing?: Tracing;
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
  const tracing = options.tracing;
  const logger = createLogger({
    service: options.service,
    level: config.logLevel,
    traceIds: tracing?.enabled === true,
  });
  const limit = options.shutdownTimeoutMs ?? 15_000;
  // Mutated by the signal handlers, read after each await of start-up.
  const state: { service?: RunningService; shuttingDown: boolean } = { shuttingDown: false };
  const stopRequested = (): boolean => state.shuttingDown;
  function shutDown(running: RunningService): void {
    // In-flight work gets a bounded time; a dependency that hangs must not keep the process alive.
    setTimeout(() => {
      logger.error(`shutdown took longer than ${limit} ms, exiting`);
      process.exit(1);
    }, limit).unref();
    running
      .stop()
      // The last spans get two seconds; a collector that is down must not turn a clean stop into a failure.
      .then(() => flushTraces(tracing, logger))
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  }
  // Installed before starting, so a signal during start-up still stops gracefully (once started).
  // Ctrl-C reaches a whole process group and a supervisor may add its own SIGTERM: shut down once.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (state.shuttingDown) return;
      state.shuttingDown = true;
      logger.info({ signal }, 'shutting down');
      if (state.service) shutDown(state.service);
    });
  }

  const started = await options.start(config, logger).catch((error: unknown) => {
    const code = (error as { code?: string }).code;
    const unreachable = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT';
    logger.fatal(
      { err: error },
      unreachable && config.databaseUrl !== undefined
        ? `PostgreSQL is not reachable at ${new URL(config.databaseUrl).host}: start it (on this machine: ` +
            'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) or fix the database URL'
        : `${options.service} service failed to start`,
    );
    process.exit(1);
  });
  if (stopRequested()) {
    shutDown(started);
    return;
  }
  await started.listen().catch(async (error: unknown) => {
    logger.fatal({ err: error }, 'cannot listen on the configured port');
    await started.stop();
    process.exit(1);
  });
  state.service = started;
  if (stopRequested()) shutDown(started);
}

/** Exports the spans still buffered, for at most 2 s; a failure is logged, never thrown. */
async function flushTraces(tracing: Tracing | undefined, logger: Logger): Promise<void> {
  if (!tracing?.enabled) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, 2_000);
  });
  await Promise.race([
    tracing.shutdown().catch((error: unknown) => {
      logger.warn({ err: error }, 'could not export the last spans');
    }),
    timeout,
  ]);
  clearTimeout(timer);
}
