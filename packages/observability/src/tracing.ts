import { ConfigError } from '@platform/config';
import { loadTracingConfig, type TracingConfig } from './tracing.config.js';

/** A process's tracing: started or not, and how to flush what it holds before the process exits. */
export interface Tracing {
  readonly enabled: boolean;
  /** Exports the spans still buffered and stops. */
  shutdown(): Promise<void>;
}

/**
 * Starts OpenTelemetry tracing for this process, or nothing when no endpoint is configured or the SDK is
 * disabled: the API's no-op tracer then stays in place, no span is recorded and no context propagated,
 * and the SDK is not even loaded (a third of a second of start-up saved in every process and test).
 *
 * Call it before anything imports `pg`: its instrumentation patches the module as it is first loaded (each
 * service's `main.ts` imports its `tracing.ts` first, and the rest only once it resolved).
 */
export async function startTracing(config: TracingConfig): Promise<Tracing> {
  const { endpoint } = config;
  if (config.disabled || endpoint === undefined) {
    return { enabled: false, shutdown: () => Promise.resolve() };
  }
  const { startTracingSdk } = await import('./tracing-sdk.js');
  return startTracingSdk({ ...config, endpoint });
}

/**
 * A service process's tracing from its environment's standard `OTEL_*` variables (`serviceName` unless
 * OTEL_SERVICE_NAME says otherwise). Invalid variables are printed, every problem, and the process exits
 * with 1, as for the service's own configuration.
 */
export async function startProcessTracing(
  serviceName: string,
  env: Record<string, string | undefined>,
): Promise<Tracing> {
  try {
    return await startTracing(loadTracingConfig(env, serviceName));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}
