export { createConsoleService, type ConsoleService } from './console-app.js';
export { loadConsoleConfig, type ConsoleConfig } from './config.js';
