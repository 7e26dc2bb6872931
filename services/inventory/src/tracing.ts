import { startProcessTracing } from '@platform/observability';

/**
 * This process's tracing, from the standard `OTEL_*` variables (off without an endpoint). `main.ts` imports
 * it before anything else: pg's instrumentation patches the module as it is first loaded.
 */
export const tracing = await startProcessTracing('inventory', process.env);
