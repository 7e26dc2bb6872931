import { startProcessTracing } from '@platform/observability';

/** This process's tracing, from the standard `OTEL_*` variables (off without an endpoint). */
export const tracing = await startProcessTracing('console', process.env);
