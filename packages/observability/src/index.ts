export { createLogger, withTraceIds, type Logger } from './logger.js';
export { createMetricsRegistry, registerQueryGauges, type Registry } from './metrics.js';
export { httpMetricsPlugin } from './http-metrics.plugin.js';
export {
  answerInstanceMetricsRequests,
  INSTANCE_METRICS_REQUEST,
  INSTANCE_METRICS_RESPONSE,
} from './instance-metrics.js';
export {
  captureTraceContext,
  endSpanAfter,
  failSpan,
  inBatchSpan,
  restoreTraceContext,
  traceIdOf,
  type TraceCarrier,
} from './trace-context.js';
export { startProcessTracing, startTracing, type Tracing } from './tracing.js';
export { loadTracingConfig, tracingEnvSchema, type TracingConfig } from './tracing.config.js';
