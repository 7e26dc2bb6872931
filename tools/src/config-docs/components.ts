import { Type, type TObject } from 'typebox';
import { authEnvSchema } from '@platform/auth';
import { tracingEnvSchema } from '@platform/observability';
import { brokerEnvSchema } from '@platform/service-host';
import { SimulatorsEnv } from '@platform/simulators';
import { ConsoleEnv } from '@services/console';
import { FulfilmentEnv } from '@services/fulfilment';
import { InventoryEnv } from '@services/inventory';
import { NotificationEnv } from '@services/notification';
import { OrderEnv } from '@services/order';
import { PaymentEnv } from '@services/payment';
import { BenchEnv } from '../bench-e2e/config.js';
import { BenchQueuesEnv } from '../bench-queues/config.js';
import { ChaosEnv } from '../chaos/config.js';
import { DemoEnv } from '../demo/config.js';
import { SupervisorEnv } from '../supervisor/config.js';
import { anchor, type Component } from './render.js';

// The documents' static text. What a single variable means belongs in its schema's `description`, next to
// the code that reads it; only what is said of a whole component lives here.

/** The title of docs/configuration.md. */
export const TITLE = 'Configuration';

/** The paragraph under the title. */
export const OVERVIEW = `
Environment variables only, parsed and validated once at start by each component's schema (its
\`src/config.ts\`); a bad value stops it with a message naming each bad variable, never printing a secret.
An empty value is the same as none, and a boolean takes \`true\` or \`false\` (\`1\` or \`0\`). One
environment configures all of them: each service's own variables carry its name.
[\`.env.example\`](../.env.example) lists them, generated from the same schemas by \`npm run config-docs\`, as
this page is: a variable's description is edited in its schema, never here (a test fails when either file
is stale).
`;

const SHARED_TITLE = 'Shared by every saga service';

const sagaService = (title: string, schema: TObject, intro: string): Component => ({
  title,
  intro: `${intro} It also reads the [variables shared by every saga service](#${anchor(SHARED_TITLE)}).`,
  schemas: [schema],
  readsShared: true,
});

/** Every component, in the order of the documents, with the schemas it validates its environment with. */
export const COMPONENTS: readonly Component[] = [
  sagaService(
    'Order service',
    OrderEnv,
    '`POST /orders` and its group commit, admission control, the saga and its deadline, and enrichment ' +
      '(pricing orders from the user and product services, off the request path).',
  ),
  sagaService(
    'Inventory service',
    InventoryEnv,
    'Stock reservations. Its listener and database, as every saga service has (`<NAME>_HOST`, `<NAME>_PORT`, ' +
      '`<NAME>_DATABASE_URL`, `<NAME>_PG_POOL_MAX`).',
  ),
  sagaService('Payment service', PaymentEnv, 'Charges and refunds through the payment gateway.'),
  sagaService('Fulfilment service', FulfilmentEnv, 'Places paid orders at the fulfilment partner.'),
  sagaService('Notification service', NotificationEnv, 'One notification per order and kind.'),
  {
    title: SHARED_TITLE,
    intro:
      'The broker, the outbox relay, the consumers, authentication and tracing: every saga service reads ' +
      'them (the order service too), each the same way; the console reads the broker, authentication and ' +
      'tracing ones. Who may do what in each `AUTH_MODE`: [authentication](api.md#authentication-and-who-may-do-what). ' +
      "Tracing reads the OpenTelemetry SDK's standard variables, the subset this system uses.",
    schemas: [Type.Object(brokerEnvSchema), Type.Object(authEnvSchema), tracingEnvSchema],
    claimsFirst: true,
  },
  {
    title: 'Console',
    intro:
      'The operator console: where it listens and the services it reads (`npm start` sets these). Logging in, ' +
      'and what `CONSOLE_OPEN` gives away: [security](security.md).',
    schemas: [ConsoleEnv],
  },
  {
    title: 'Simulators',
    intro: 'The third parties the services call (`npm run simulators`; `npm start` runs them too).',
    schemas: [SimulatorsEnv],
  },
  {
    title: 'npm start (the supervisor)',
    intro:
      "The supervisor's own variables. It hands its whole environment to every child, with " +
      '`INVENTORY_SEED_STOCK=true` unless that is set.',
    schemas: [SupervisorEnv],
  },
  {
    title: 'npm run demo',
    intro: "SPEC §7's scenarios against the running system, whose URLs it takes from the same environment.",
    schemas: [DemoEnv],
  },
  {
    title: 'The chaos run',
    intro:
      '`npm run chaos` ([the chaos run](chaos.md)); the system it starts takes its own variables from the same ' +
      'environment.',
    schemas: [ChaosEnv],
  },
  {
    title: 'Benchmarks',
    intro:
      '`npm run bench:e2e` and `npm run bench:queues` ([benchmarks](benchmarks.md)); the system `bench:e2e` ' +
      'starts takes its own variables from the same environment. `npm run bench:intake` reads its few ' +
      'settings without a schema, with defaults of its own: `BENCH_DURATION_S` (10), `BENCH_WARMUP_S` (2), ' +
      '`BENCH_CONNECTIONS` (`1,16,64`, one run each), `BENCH_POSTGRES_URL` and `BENCH_RABBITMQ_URL` as ' +
      'below; it hands `ORDER_PG_POOL_MAX`, `ORDER_INTAKE_MAX_BATCH`, `ORDER_INTAKE_MAX_CONCURRENT_BATCHES` ' +
      'and `OUTBOX_BATCH_SIZE` to the order service it starts.',
    schemas: [BenchEnv, BenchQueuesEnv],
  },
];

/** The comment at the top of .env.example. */
export const ENV_HEADER = `
Export any of these to override it; every variable has a working default for this machine, except those of
the docker compose section at the end. Each component parses and validates its own at start; a bad value
stops it with a message naming the variable.

Generated by \`npm run config-docs\` from the components' configuration schemas, as docs/configuration.md
is: edit a description there, never here.
`;

/** The end of .env.example: what only docker compose reads (no schema: compose's own interpolation). */
export const ENV_TRAILER = `
# docker compose only: it refuses to start until these are set in .env (npm start does not read them).
# The passwords go into URLs: use URL-safe characters, e.g. \`openssl rand -hex 24\`. AUTH_JWT_SECRET above
# is required by compose too.
POSTGRES_PASSWORD=
RABBITMQ_USER=
RABBITMQ_PASSWORD=
GRAFANA_ADMIN_PASSWORD=
`;
