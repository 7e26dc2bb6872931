import { Type } from 'typebox';
import { authEnvSchema, toAuthConfig, type AuthConfig } from '@platform/auth';
import { parseEnv } from '@platform/config';
import { RABBITMQ_URLS_PATTERN } from '@platform/messaging';
import { checkBrokerAddresses } from '@platform/service-host';
import { STEP_BOUNDS } from '@platform/contracts';

const Url = (fallback: string, description: string) =>
  Type.String({ pattern: '^https?://', default: fallback, description });
const ApiUrl = (service: string, port: number) =>
  Url(
    `http://127.0.0.1:${port}`,
    `The ${service} service's API, which the console reads (\`npm start\` sets it)`,
  );
// Where a service's metrics are read, when not at its API's /metrics: npm start --replicas points these
// at its all-instances endpoints (a shared port answers for one instance at a time).
const MetricsUrl = (service: string) =>
  Type.Optional(
    Type.String({
      pattern: '^https?://',
      description:
        `Where the overview reads the ${service} service's metrics; unset: its API URL's \`/metrics\` ` +
        '(`npm start --replicas` sets it to its all-instances endpoint)',
    }),
  );

/**
 * Every variable the operator console reads, each with a `description`: docs/configuration.md and
 * .env.example are generated from them (`npm run config-docs`).
 */
export const ConsoleEnv = Type.Object({
  CONSOLE_HOST: Type.String({
    default: '127.0.0.1',
    description: 'Interface the operator console listens on',
  }),
  CONSOLE_PORT: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: 8005,
    description: 'Port of the operator console',
  }),
  CONSOLE_ORDER_API_URL: ApiUrl('order', 8000),
  CONSOLE_INVENTORY_API_URL: ApiUrl('inventory', 8001),
  CONSOLE_PAYMENT_API_URL: ApiUrl('payment', 8002),
  CONSOLE_FULFILMENT_API_URL: ApiUrl('fulfilment', 8003),
  CONSOLE_NOTIFICATION_API_URL: ApiUrl('notification', 8004),
  CONSOLE_ORDER_METRICS_URL: MetricsUrl('order'),
  CONSOLE_INVENTORY_METRICS_URL: MetricsUrl('inventory'),
  CONSOLE_PAYMENT_METRICS_URL: MetricsUrl('payment'),
  CONSOLE_FULFILMENT_METRICS_URL: MetricsUrl('fulfilment'),
  CONSOLE_NOTIFICATION_METRICS_URL: MetricsUrl('notification'),
  CONSOLE_TRACE_URL: Type.Optional(
    Type.String({
      pattern: '^https?://.*\\{trace_id\\}',
      description:
        "A trace viewer's page of one trace, `{trace_id}` replaced, e.g. " +
        '`http://localhost:16686/trace/{trace_id}` (Jaeger); unset: no link',
    }),
  ),
  CONSOLE_SESSION_SECRET: Type.Optional(
    Type.String({
      minLength: 32,
      description:
        'Signs the session cookie (32+ characters); unset: random at each start, sessions end with a restart',
    }),
  ),
  // Opt-in (SPEC §4.10): off by default, since the console cannot tell a local browser from a local relay.
  CONSOLE_OPEN: Type.Boolean({
    default: false,
    description:
      "Opt-in: with `AUTH_MODE=optional`, callers on this machine need no login. Off: log in with an operator's " +
      'token (`npm start` prints a login link). Any relay on this machine (socat, `ssh -L`) would let others in too',
  }),
  CONSOLE_COOKIE_SECURE: Type.Boolean({
    default: false,
    description:
      'Served over TLS (an ingress terminating it): the session and CSRF cookies are marked `Secure`',
  }),
  RABBITMQ_URL: Type.String({
    pattern: RABBITMQ_URLS_PATTERN,
    default: 'amqp://guest:guest@127.0.0.1:5672',
    description: 'The broker, as for the services: the console reads and replays dead letters through it',
  }),
  RABBITMQ_EXCHANGE: Type.String({
    minLength: 1,
    default: 'orders',
    description: "The services' topic exchange",
  }),
  SAGA_DEADLINE_MS: Type.Integer({
    minimum: 1000,
    default: STEP_BOUNDS.saga.deadlineMs,
    description: "The order service's saga deadline, in ms: the overview shows the oldest order against it",
  }),
  LOG_LEVEL: Type.String({
    default: 'info',
    description: 'The least severe level logged, as for the services',
  }),
  ...authEnvSchema,
});

/** The console's settings: where it listens, the services it reads, and who may use it. */
export interface ConsoleConfig {
  http: { host: string; port: number };
  apis: Record<'order' | 'inventory' | 'payment' | 'fulfilment' | 'notification', string>;
  /** Each service's Prometheus text: its API's `/metrics` unless CONSOLE_<NAME>_METRICS_URL says otherwise. */
  metricsUrls: Record<'order' | 'inventory' | 'payment' | 'fulfilment' | 'notification', string>;
  traceUrl: string | undefined;
  sessionSecret: string | undefined;
  /**
   * The open console (CONSOLE_OPEN, opt-in, SPEC §4.10): with AUTH_MODE=optional and a secret to sign with,
   * a request from this machine, addressed to the console by a loopback name and port and relayed by no
   * proxy, needs no login. Off by default: a plain TCP relay on this machine (socat, `ssh -g -L`, a
   * port-forward) is indistinguishable from a local browser.
   */
  open: boolean;
  /** Mark the session and CSRF cookies `Secure` (behind TLS termination the request itself says http). */
  cookieSecure: boolean;
  rabbitmq: { url: string; exchange: string };
  /** The order service's saga deadline, in ms: the overview shows the oldest order against it. */
  sagaDeadlineMs: number;
  logLevel: string;
  auth: AuthConfig;
}

/** Parses the environment; throws a ConfigError naming every bad or missing variable. */
export function loadConsoleConfig(env: Record<string, string | undefined> = process.env): ConsoleConfig {
  const e = parseEnv(ConsoleEnv, env);
  checkBrokerAddresses(e.RABBITMQ_URL);
  return {
    http: { host: e.CONSOLE_HOST, port: e.CONSOLE_PORT },
    apis: {
      order: e.CONSOLE_ORDER_API_URL,
      inventory: e.CONSOLE_INVENTORY_API_URL,
      payment: e.CONSOLE_PAYMENT_API_URL,
      fulfilment: e.CONSOLE_FULFILMENT_API_URL,
      notification: e.CONSOLE_NOTIFICATION_API_URL,
    },
    metricsUrls: {
      order: e.CONSOLE_ORDER_METRICS_URL ?? `${e.CONSOLE_ORDER_API_URL}/metrics`,
      inventory: e.CONSOLE_INVENTORY_METRICS_URL ?? `${e.CONSOLE_INVENTORY_API_URL}/metrics`,
      payment: e.CONSOLE_PAYMENT_METRICS_URL ?? `${e.CONSOLE_PAYMENT_API_URL}/metrics`,
      fulfilment: e.CONSOLE_FULFILMENT_METRICS_URL ?? `${e.CONSOLE_FULFILMENT_API_URL}/metrics`,
      notification: e.CONSOLE_NOTIFICATION_METRICS_URL ?? `${e.CONSOLE_NOTIFICATION_API_URL}/metrics`,
    },
    traceUrl: e.CONSOLE_TRACE_URL,
    sessionSecret: e.CONSOLE_SESSION_SECRET,
    open: e.CONSOLE_OPEN,
    cookieSecure: e.CONSOLE_COOKIE_SECURE,
    rabbitmq: { url: e.RABBITMQ_URL, exchange: e.RABBITMQ_EXCHANGE },
    sagaDeadlineMs: e.SAGA_DEADLINE_MS,
    logLevel: e.LOG_LEVEL,
    auth: toAuthConfig(e),
  };
}
