export { createConsoleService, type ConsoleService } from './console-app.js';
export { loadConsoleConfig, ConsoleEnv, type ConsoleConfig } from './config.js';
