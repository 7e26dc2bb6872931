import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadSimulatorsConfig } from '@platform/simulators';
import { loadFulfilmentConfig } from '@services/fulfilment';
import { loadInventoryConfig } from '@services/inventory';
import { loadConsoleConfig } from '@services/console';
import { loadNotificationConfig } from '@services/notification';
import { loadOrderConfig } from '@services/order';
import { loadPaymentConfig } from '@services/payment';

// There is no Docker engine on the build machine: these checks hold docker-compose.yml and the Dockerfile
// to the repository instead (every service there, its environment valid for its own configuration
// schema, ports and hosts consistent, dependencies waited for until healthy).
const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

interface ComposeService {
  build?: unknown;
  image?: string;
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: unknown;
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: unknown };
}
type Compose = { services: Record<string, ComposeService> };

/**
 * Compose's variable interpolation (`${NAME}`, `${NAME:-default}`, `${NAME:?message}`, the forms the file
 * uses) with `env` standing for `.env`: a `:?` variable unset or empty is an error, as in compose.
 */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(
    /\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g,
    (_match, name: string, operator: string | undefined, argument: string | undefined) => {
      const value = env[name] ?? '';
      if (operator === '-') return value === '' ? (argument ?? '') : value;
      if (operator === '?' && value === '') throw new Error(`${name}: ${argument ?? 'required'}`);
      return value;
    },
  );
}

/** What a developer puts in `.env` for compose (.env.example names them). */
const DOT_ENV = {
  POSTGRES_PASSWORD: 'pg-0f3a9c',
  RABBITMQ_USER: 'platform',
  RABBITMQ_PASSWORD: 'mq-7d1e42',
  GRAFANA_ADMIN_PASSWORD: 'grafana-5b8e',
  AUTH_JWT_SECRET: 'compose-test-secret-of-at-least-32-characters',
};
const rawCompose = read('docker-compose.yml');
const compose = parse(interpolate(rawCompose, DOT_ENV), { merge: true }) as Compose;
// Replicas and port ranges are checked as written, before interpolation.
const uninterpolated = parse(rawCompose, { merge: true }) as Compose;
const services = compose.services;
const dockerfile = read('Dockerfile');
const initSql = read('docker/postgres-init.sql');
const documented = new Set(
  read('.env.example')
    .split('\n')
    .map((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined),
);
// Read by the image itself (Dockerfile), not by a service.
const IMAGE_VARIABLES = new Set(['SERVICE_ENTRY', 'HEALTH_URL']);

const LOADERS = {
  order: loadOrderConfig,
  inventory: loadInventoryConfig,
  payment: loadPaymentConfig,
  fulfilment: loadFulfilmentConfig,
  notification: loadNotificationConfig,
  console: loadConsoleConfig,
} as const;

const environmentOf = (name: string): Record<string, string> => services[name]?.environment ?? {};
const publishedPorts = (name: string) =>
  (services[name]?.ports ?? []).map((mapping) => Number(mapping.split(':').at(-1)));

describe('docker-compose.yml', () => {
  it('runs every service of the repository, the simulators, PostgreSQL and RabbitMQ (with its UI)', () => {
    const repositoryServices = readdirSync(new URL('services/', root));
    expect(repositoryServices.sort()).toEqual(Object.keys(LOADERS).sort());
    for (const name of [...repositoryServices, 'simulators', 'postgres', 'rabbitmq']) {
      expect(services, name).toHaveProperty(name);
    }
    expect(services.rabbitmq?.image).toMatch(/management/);
    expect(publishedPorts('rabbitmq')).toContain(15672);
  });

  it('runs RabbitMQ 4, and as many instances of each saga service as <NAME>_REPLICAS says', () => {
    expect(services.rabbitmq?.image).toMatch(/^rabbitmq:4\.\d+-management$/);
    for (const name of ['order', 'inventory', 'payment', 'fulfilment', 'notification']) {
      const prefix = name.toUpperCase();
      expect(uninterpolated.services[name]?.deploy?.replicas, name).toBe(`\${${prefix}_REPLICAS:-1}`);
      // One host port per instance: a range when there are several, the service's own port by default.
      const port = environmentOf(name)[`${prefix}_PORT`];
      expect(uninterpolated.services[name]?.ports, name).toEqual([
        `127.0.0.1:\${${prefix}_HOST_PORTS:-${port}}:${port}`,
      ]);
    }
  });

  it.each(Object.entries(LOADERS))(
    '%s: its environment passes its configuration schema, on the port it publishes and probes',
    (name, load) => {
      const env = environmentOf(name);
      const config = load(env);
      expect(publishedPorts(name)).toEqual([config.http.port]);
      expect(new URL(env.HEALTH_URL ?? '').port).toBe(String(config.http.port));
      expect(existsSync(new URL(env.SERVICE_ENTRY ?? '', root)), env.SERVICE_ENTRY).toBe(true);
      expect(env.SERVICE_ENTRY).toBe(`services/${name}/dist/src/main.js`);
      // The console owns no data: no database.
      if ('databaseUrl' in config) {
        const database = new URL(config.databaseUrl);
        expect(database.hostname).toBe('postgres');
        expect(initSql).toContain(`CREATE DATABASE ${database.pathname.slice(1)};`);
      }
      expect(new URL(config.rabbitmq.url).hostname).toBe('rabbitmq');
    },
  );

  it('publishes every port on this machine only, never on every interface (issue 22, SPEC §4.10)', () => {
    const published = Object.entries(uninterpolated.services).flatMap(([name, service]) =>
      (service.ports ?? []).map((mapping) => [name, mapping] as const),
    );
    expect(published.length).toBeGreaterThan(10);
    for (const [name, mapping] of published) expect(mapping, name).toMatch(/^127\.0\.0\.1:/);
    // Inside the compose network the services listen on every interface, or nothing could reach them.
    for (const name of Object.keys(LOADERS))
      expect(LOADERS[name as keyof typeof LOADERS](environmentOf(name)).http.host).toBe('0.0.0.0');
  });

  it('carries no credentials: compose refuses to start until .env sets each of them', () => {
    expect(rawCompose).not.toMatch(/guest|admin\/admin|POSTGRES_PASSWORD: postgres|:postgres@/);
    for (const name of Object.keys(DOT_ENV)) {
      expect(() => interpolate(rawCompose, { ...DOT_ENV, [name]: '' }), name).toThrow(
        new RegExp(`^${name}: set ${name} in \\.env`),
      );
      expect(documented.has(name), `.env.example names ${name}`).toBe(true);
    }
    expect(environmentOf('rabbitmq')).toMatchObject({
      RABBITMQ_DEFAULT_USER: DOT_ENV.RABBITMQ_USER,
      RABBITMQ_DEFAULT_PASS: DOT_ENV.RABBITMQ_PASSWORD,
    });
    expect(environmentOf('grafana').GF_SECURITY_ADMIN_PASSWORD).toBe(DOT_ENV.GRAFANA_ADMIN_PASSWORD);
    for (const name of Object.keys(LOADERS)) {
      const config = LOADERS[name as keyof typeof LOADERS](environmentOf(name));
      expect(config.rabbitmq.url).toBe('amqp://platform:mq-7d1e42@rabbitmq:5672');
      if ('databaseUrl' in config)
        expect(new URL(config.databaseUrl).password).toBe(DOT_ENV.POSTGRES_PASSWORD);
    }
  });

  it('points each service at the simulators on the ports they listen on', () => {
    const simulators = loadSimulatorsConfig(environmentOf('simulators'));
    expect(publishedPorts('simulators').sort()).toEqual(Object.values(simulators.ports).sort());
    const order = loadOrderConfig(environmentOf('order'));
    const payment = loadPaymentConfig(environmentOf('payment'));
    const fulfilment = loadFulfilmentConfig(environmentOf('fulfilment'));
    const expectSimulator = (url: string, port: number) => {
      expect(new URL(url).hostname).toBe('simulators');
      expect(Number(new URL(url).port)).toBe(port);
    };
    expectSimulator(order.enrichment.productServiceUrl, simulators.ports.product);
    expectSimulator(order.enrichment.userServiceUrl, simulators.ports.user);
    expectSimulator(payment.payment.gatewayUrl, simulators.ports.payment);
    expectSimulator(fulfilment.placement.partnerUrl, simulators.ports.fulfilment);
    expect(simulators.host).toBe('0.0.0.0');
  });

  it('sets only variables that .env.example documents', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.image) continue; // third-party images (postgres, rabbitmq) have their own variables
      for (const variable of Object.keys(service.environment ?? {})) {
        if (IMAGE_VARIABLES.has(variable)) continue;
        expect(documented.has(variable), `${name}: ${variable}`).toBe(true);
      }
    }
  });

  it('starts a service only once what it depends on is healthy', () => {
    for (const name of Object.keys(LOADERS)) {
      const dependsOn = services[name]?.depends_on ?? {};
      expect(Object.keys(dependsOn).sort(), name).toEqual(['postgres', 'rabbitmq', 'simulators']);
      for (const [dependency, { condition }] of Object.entries(dependsOn)) {
        expect(condition, `${name} → ${dependency}`).toBe('service_healthy');
        // A healthcheck of its own, or the image's (built from the Dockerfile, which has one).
        const target = services[dependency];
        expect(target?.healthcheck !== undefined || target?.build !== undefined, dependency).toBe(true);
      }
    }
  });
});

describe('.dockerignore', () => {
  it("keeps npm start's development secret, .env files and test output out of the image (issue 22)", () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim());
    for (const entry of ['.dev', '.env*', 'test-results', 'coverage', '.git', '**/node_modules']) {
      expect(ignored, entry).toContain(entry);
    }
    // The image copies the whole context: what is not ignored ships.
    expect(dockerfile).toMatch(/^COPY \. \.$/m);
  });
});

describe('Dockerfile', () => {
  it('builds in a stage of its own and runs production dependencies only, as a non-root user, with a healthcheck', () => {
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    expect(dockerfile).toMatch(/exec node/);
  });
});
