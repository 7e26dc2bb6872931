// What the inventory service offers the other workspaces (the supervisor, the system tests): its configuration
// and its composition root. Nothing else is public.
export { loadInventoryConfig, InventoryEnv, type InventoryConfig } from './config.js';
export { createInventoryService, type InventoryService } from './inventory-service.js';
