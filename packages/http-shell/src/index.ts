export { buildServiceApp, BODY_LIMIT_BYTES, type ServiceApp, type ServiceAppDeps } from './service-app.js';
export { healthRoutes } from './health.routes.js';
export { addHttpEdges, correlationIdOptions } from './http-edges.js';
