export { createLogger, type Logger } from './logger.js';
export { createMetricsRegistry, registerQueryGauges, type Registry } from './metrics.js';
export { httpMetricsPlugin } from './http-metrics.plugin.js';
