import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** The five services, in the order their variables are named (`ORDER_PORT`, …). */
export const SERVICE_NAMES = ['order', 'inventory', 'payment', 'fulfilment', 'notification'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Each service's database name, as `npm start` names them. */
export const DATABASE_NAMES: Record<ServiceName, string> = {
  order: 'orders',
  inventory: 'inventory',
  payment: 'payments',
  fulfilment: 'fulfilment',
  notification: 'notifications',
};

/** Ports of one whole system: the five services and the four simulators. */
export type SystemPorts = Record<
  ServiceName | 'console' | 'product' | 'user' | 'gateway' | 'partner',
  number
>;

/** A TCP port free on 127.0.0.1 at the moment of asking (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Free ports for every part of a system. */
export async function freeSystemPorts(): Promise<SystemPorts> {
  const names = [...SERVICE_NAMES, 'console', 'product', 'user', 'gateway', 'partner'] as const;
  const ports = await Promise.all(names.map(() => freePort()));
  return Object.fromEntries(names.map((name, i) => [name, ports[i]])) as SystemPorts;
}

export const localUrl = (port: number): string => `http://127.0.0.1:${port}`;

/**
 * The environment of a system of its own, beside whatever else runs on the machine: every service and
 * simulator on its port on 127.0.0.1, every service on its database (`databaseUrl(service)`), the
 * services on `exchange` of the broker at `rabbitmqUrl`, and the simulators with `simulatorsProfile`.
 * Variables already in `base` that are not set here pass through (CONSUMER_PREFETCH, LOG_LEVEL, …).
 */
export function isolatedSystemEnv(options: {
  base: Record<string, string | undefined>;
  ports: SystemPorts;
  databaseUrl: (service: ServiceName) => string;
  rabbitmqUrl: string;
  exchange: string;
  simulatorsProfile: string;
}): Record<string, string | undefined> {
  const { ports } = options;
  return {
    ...options.base,
    ...Object.fromEntries(
      SERVICE_NAMES.flatMap((service) => {
        const prefix = service.toUpperCase();
        return [
          [`${prefix}_HOST`, '127.0.0.1'],
          [`${prefix}_PORT`, String(ports[service])],
          [`${prefix}_DATABASE_URL`, options.databaseUrl(service)],
        ];
      }),
    ),
    CONSOLE_HOST: '127.0.0.1',
    CONSOLE_PORT: String(ports.console),
    ...Object.fromEntries(
      SERVICE_NAMES.map((service) => [`CONSOLE_${service.toUpperCase()}_API_URL`, localUrl(ports[service])]),
    ),
    RABBITMQ_URL: options.rabbitmqUrl,
    RABBITMQ_EXCHANGE: options.exchange,
    SIMULATORS_PROFILE: options.simulatorsProfile,
    SIMULATORS_HOST: '127.0.0.1',
    PRODUCT_SERVICE_PORT: String(ports.product),
    USER_SERVICE_PORT: String(ports.user),
    PAYMENT_GATEWAY_PORT: String(ports.gateway),
    FULFILMENT_PARTNER_PORT: String(ports.partner),
    ORDER_PRODUCT_SERVICE_URL: localUrl(ports.product),
    ORDER_USER_SERVICE_URL: localUrl(ports.user),
    PAYMENT_GATEWAY_URL: localUrl(ports.gateway),
    FULFILMENT_PARTNER_URL: localUrl(ports.partner),
    // The load of a chaos run or a benchmark stands for many customers but comes from one address with
    // three user ids: per-customer limits (SPEC §4.9) would measure themselves. Set them in `base` to try.
    ORDER_CUSTOMER_RATE_MAX: options.base.ORDER_CUSTOMER_RATE_MAX ?? '0',
    ORDER_CUSTOMER_MAX_IN_FLIGHT: options.base.ORDER_CUSTOMER_MAX_IN_FLIGHT ?? '0',
    NO_COLOR: '1',
    // A key of its own (the tools sign their operator tokens with it), unless the caller brought one.
    AUTH_JWT_SECRET: options.base.AUTH_JWT_SECRET ?? randomBytes(32).toString('base64url'),
    // As npm start: SPEC §6's stock to begin with (the bench and the chaos run then raise it).
    INVENTORY_SEED_STOCK: 'true',
  };
}

/** The URLs that answer 200 once every service and simulator of a system is ready. */
export function readinessUrls(ports: SystemPorts): string[] {
  return [
    ...SERVICE_NAMES.map((service) => `${localUrl(ports[service])}/health/ready`),
    ...[ports.product, ports.user, ports.gateway, ports.partner].map((port) => `${localUrl(port)}/health`),
  ];
}

/** Resolves once every URL answers 2xx; throws after `timeoutMs`. */
export async function waitUntilAllAnswer(urls: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const answers = await Promise.all(
      urls.map((url) =>
        fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
          (response) => response.ok,
          () => false,
        ),
      ),
    );
    if (answers.every(Boolean)) return;
    await sleep(250);
  }
  throw new Error(`the system did not become ready within ${timeoutMs / 1000} s`);
}
