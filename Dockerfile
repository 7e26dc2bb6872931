# One image for every service and the simulators: SERVICE_ENTRY (set per container by docker-compose.yml)
# says which process to run.

# --- build: all dependencies, compile, then drop what production does not need ---------------------------
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund \
 && npx tsc -b \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf packages/*/src packages/*/test services/*/src services/*/test services/*/bench \
           simulators/src simulators/test tests tools/src \
           packages/*/dist/**/*.tsbuildinfo services/*/dist/*.tsbuildinfo

# --- runtime: production dependencies and compiled code only, as the unprivileged `node` user --------------
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    SERVICE_ENTRY=services/order/dist/src/main.js \
    HEALTH_URL=http://127.0.0.1:8000/health/live
WORKDIR /app
COPY --from=build --chown=node:node /app /app
USER node
# Node's own fetch: the slim image has no curl, and the check needs nothing else.
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=5 \
  CMD ["node", "-e", "fetch(process.env.HEALTH_URL).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# exec: the service is PID 1's only child and receives SIGTERM itself, for a graceful shutdown.
CMD ["sh", "-c", "exec node \"$SERVICE_ENTRY\""]
