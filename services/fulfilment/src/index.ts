// What the fulfilment service offers the other workspaces (the supervisor, the system tests): its configuration
// and its composition root. Nothing else is public.
export { loadFulfilmentConfig, FulfilmentEnv, type FulfilmentConfig } from './config.js';
export { createFulfilmentService, type FulfilmentService } from './fulfilment-service.js';
