import { Type } from 'typebox';
import { authEnvSchema, toAuthConfig, type AuthConfig } from '@platform/auth';
import { parseEnv } from '@platform/config';
import { RABBITMQ_URLS_PATTERN } from '@platform/messaging';
import { checkBrokerAddresses } from '@platform/service-host';

const Url = (fallback: string) => Type.String({ pattern: '^https?://', default: fallback });

const ConsoleEnv = Type.Object({
  CONSOLE_HOST: Type.String({ default: '127.0.0.1' }),
  CONSOLE_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8005 }),
  CONSOLE_ORDER_API_URL: Url('http://127.0.0.1:8000'),
  CONSOLE_INVENTORY_API_URL: Url('http://127.0.0.1:8001'),
  CONSOLE_PAYMENT_API_URL: Url('http://127.0.0.1:8002'),
  CONSOLE_FULFILMENT_API_URL: Url('http://127.0.0.1:8003'),
  CONSOLE_NOTIFICATION_API_URL: Url('http://127.0.0.1:8004'),
  // Where a service's metrics are read, when not at its API's /metrics: npm start --replicas points these
  // at its all-instances endpoints (a shared port answers for one instance at a time).
  CONSOLE_ORDER_METRICS_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  CONSOLE_INVENTORY_METRICS_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  CONSOLE_PAYMENT_METRICS_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  CONSOLE_FULFILMENT_METRICS_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  CONSOLE_NOTIFICATION_METRICS_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  // A trace viewer's page for one trace, `{trace_id}` replaced: e.g. http://localhost:16686/trace/{trace_id}
  CONSOLE_TRACE_URL: Type.Optional(Type.String({ pattern: '^https?://.*\\{trace_id\\}' })),
  // Signs the session cookie; random at each start when unset (sessions then end with a restart).
  CONSOLE_SESSION_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  // Opt-in (SPEC §4.10): with AUTH_MODE=optional, callers on this machine need no login. Off by default.
  CONSOLE_OPEN: Type.Boolean({ default: false }),
  // Served over TLS (an ingress terminating it): the cookies are marked Secure.
  CONSOLE_COOKIE_SECURE: Type.Boolean({ default: false }),
  RABBITMQ_URL: Type.String({ pattern: RABBITMQ_URLS_PATTERN, default: 'amqp://guest:guest@127.0.0.1:5672' }),
  RABBITMQ_EXCHANGE: Type.String({ minLength: 1, default: 'orders' }),
  SAGA_DEADLINE_MS: Type.Integer({ minimum: 1000, default: 120_000 }),
  LOG_LEVEL: Type.String({ default: 'info' }),
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
