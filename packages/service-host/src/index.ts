export { assertHandlersMatch, openServiceHost, type ServiceHost, type Transact } from './service-host.js';
export { buildServiceApp, BODY_LIMIT_BYTES, type ServiceApp, type ServiceAppDeps } from './service-app.js';
export { healthRoutes } from './health.routes.js';
export { addHttpEdges, correlationIdOptions } from './http-edges.js';
export { runService, type RunningService } from './run-service.js';
export {
  startLeaseWorker,
  retryDelayMs,
  type LeaseWorker,
  type LeaseWorkerOptions,
  type WorkOutcome,
} from './lease-worker.js';
export {
  serviceEnvSchema,
  brokerEnvSchema,
  toBrokerConfig,
  toServiceHostConfig,
  type ServiceHostConfig,
} from './service-env.js';
export {
  handleSagaEvents,
  rounds,
  type Applied,
  type EventHandlers,
  type ApplyRound,
  type SagaEvent,
  type SagaEventsOptions,
} from './saga-events.js';
