// What the payment service offers the other workspaces (the supervisor, the system tests): its configuration
// and its composition root. Nothing else is public.
export { loadPaymentConfig, PaymentEnv, type PaymentConfig } from './config.js';
export { createPaymentService, type PaymentService } from './payment-service.js';
