// What the notification service offers the other workspaces (the supervisor, the system tests): its configuration
// and its composition root. Nothing else is public.
export { loadNotificationConfig, NotificationEnv, type NotificationConfig } from './config.js';
export { createNotificationService, type NotificationService } from './notification-service.js';
