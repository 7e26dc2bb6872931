export { assertHandlersMatch, openServiceHost, type ServiceHost, type Transact } from './service-host.js';
export { runService, type RunningService } from './run-service.js';
export {
  serviceEnvSchema,
  brokerEnvSchema,
  checkBrokerAddresses,
  toBrokerConfig,
  toServiceHostConfig,
  type ServiceHostConfig,
} from './service-env.js';
export {
  handleSagaEvents,
  rounds,
  type Applied,
  type EventHandlers,
  type SagaEventRules,
  type SagaEvent,
  type SagaEventsOptions,
} from './saga-events.js';
export { transactForCorrelations, type CorrelationTrace } from './transact-for-correlations.js';
export { startSagaService, type SagaService, type SagaServiceParts } from './saga-service.js';
