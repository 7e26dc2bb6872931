// What the order service offers the other workspaces (the supervisor, the system tests): its configuration
// and its composition root. Nothing else is public.
export { loadOrderConfig, OrderEnv, type OrderConfig } from './config.js';
export { createOrderService, type OrderService } from './order-service.js';
