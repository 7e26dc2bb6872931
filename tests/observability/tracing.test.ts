import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  seedProfile,
  startFulfilmentPartner,
  startPaymentGateway,
  startProductSimulator,
  startUserSimulator,
  type RunningSimulator,
} from '@platform/simulators';
import {
  createTestDatabase,
  createTestExchange,
  startOtlpReceiver,
  testServiceEnv,
  waitFor,
  type OtlpReceiver,
  type ReceivedSpan,
  type TestDatabase,
  type TestExchange,
} from '@platform/testing';

// The acceptance of tracing (issue 12): the five services as real processes, configured only by the
// standard OTEL_* variables, exporting OTLP/JSON to a receiver in this test; one order placed through
// POST /orders must come back as one trace with spans from every service.
const root = new URL('../../', import.meta.url).pathname;
const SERVICES = ['order', 'inventory', 'payment', 'fulfilment', 'notification'] as const;
type Service = (typeof SERVICES)[number];

const SPAN_KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let receiver: OtlpReceiver;
let exchange: TestExchange;
const databases = {} as Record<Service, TestDatabase>;
const ports = {} as Record<Service, number>;
let simulators: RunningSimulator[] = [];
const processes: ChildProcess[] = [];
/** Every JSON log line of the services, parsed. */
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  exchange = await createTestExchange('tracing');
  for (const name of SERVICES) {
    databases[name] = await createTestDatabase(`tracing_${name}`);
    ports[name] = await freePort();
  }
  simulators = [
    await startProductSimulator({ port: 0, products: seedProfile.products }),
    await startUserSimulator({ port: 0, users: seedProfile.users }),
    // Always succeed: the order must complete, through the charge and the placement.
    await startPaymentGateway({ port: 0, behaviour: seedProfile.payment, random: () => 0 }),
    await startFulfilmentPartner({
      port: 0,
      behaviour: { ...seedProfile.fulfilment, delayMs: 20 },
      random: () => 0.99,
    }),
  ];
  const [product, user, gateway, partner] = simulators.map((simulator) => simulator.url);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    ...Object.fromEntries(
      SERVICES.flatMap((name) =>
        Object.entries({
          ...testServiceEnv(name.toUpperCase(), databases[name], exchange),
          [`${name.toUpperCase()}_PORT`]: String(ports[name]),
        }),
      ),
    ),
    ORDER_PRODUCT_SERVICE_URL: product,
    ORDER_USER_SERVICE_URL: user,
    PAYMENT_GATEWAY_URL: gateway,
    FULFILMENT_PARTNER_URL: partner,
    LOG_LEVEL: 'debug',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '100',
  };
  for (const name of SERVICES) {
    const child = spawn(process.execPath, [`services/${name}/dist/src/main.js`], { cwd: root, env });
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        try {
          logLines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not a log line
        }
      }
    });
    processes.push(child);
  }
  for (const name of SERVICES) {
    await waitFor(
      `${name} ready`,
      async () => {
        const response = await fetch(`http://127.0.0.1:${ports[name]}/health/ready`).catch(() => undefined);
        return response?.status === 200;
      },
      30_000,
    );
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(
    processes.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null) {
            resolve();
            return;
          }
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
  await Promise.all(simulators.map((simulator) => simulator.close()));
  await exchange.remove();
  for (const name of SERVICES) await databases[name].drop();
  await receiver.close();
}, 60_000);

const orderUrl = () => `http://127.0.0.1:${ports.order}/orders`;

describe('one order, one trace (OpenTelemetry over OTLP/HTTP)', () => {
  it('links spans from all five services, the outbox publishes, each consume, the charge and the placement', async () => {
    const placed = await fetch(orderUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        user_id: 'customer-123',
        items: [{ product_code: 'classic-box', quantity: 1 }],
      }),
    });
    expect(placed.status).toBe(201);
    const order = (await placed.json()) as { id: string; trace_id: string | null };
    expect(order.trace_id).toMatch(/^[0-9a-f]{32}$/);
    const traceId = order.trace_id ?? '';

    let final: { status: string; trace_id: string | null } | undefined;
    await waitFor(
      'the order final',
      async () => {
        final = (await (await fetch(`${orderUrl()}/${order.id}`)).json()) as typeof final;
        return final?.status !== 'PENDING';
      },
      20_000,
    );
    expect(final?.status).toBe('COMPLETED');
    expect(final?.trace_id).toBe(traceId);

    const inTrace = (): ReceivedSpan[] => receiver.spans.filter((span) => span.traceId === traceId);
    const has = (service: Service, name: string) =>
      inTrace().some((span) => span.service === service && span.name === name);
    // The notification of the completed order is the saga's last consumer; each process exports on its
    // own schedule, so a child can arrive before its parent.
    const parentless = () => {
      const ids = new Set(inTrace().map((span) => span.spanId));
      return inTrace().filter((span) => span.parentSpanId !== '' && !ids.has(span.parentSpanId));
    };
    await waitFor(
      'every span exported',
      () => has('notification', 'process order.completed') && parentless().length === 0,
      15_000,
    );

    const spans = inTrace();
    expect(new Set(spans.map((span) => span.service))).toEqual(new Set(SERVICES));
    const byId = new Map(spans.map((span) => [span.spanId, span]));

    // The root is the request: every other span descends from it.
    const [rootSpan, ...others] = spans.filter((span) => span.parentSpanId === '');
    expect(others).toEqual([]);
    expect(rootSpan).toMatchObject({ service: 'order', name: 'POST /orders', kind: SPAN_KIND.server });
    for (const span of spans) {
      let hops = 0;
      for (let at: ReceivedSpan | undefined = span; at && at.parentSpanId !== ''; hops += 1) {
        at = byId.get(at.parentSpanId);
        expect(at, `the parent of ${span.service} ${span.name}`).toBeDefined();
      }
      expect(hops).toBeLessThan(50);
    }

    // Each event is published from an outbox row (a producer span) and consumed as a child of it.
    const consumes = spans.filter((span) => span.kind === SPAN_KIND.consumer);
    for (const consume of consumes) {
      const publish = byId.get(consume.parentSpanId);
      expect(publish?.kind, consume.name).toBe(SPAN_KIND.producer);
      expect(publish?.attributes['messaging.message.id']).toBe(consume.attributes['messaging.message.id']);
      expect(consume.attributes).toMatchObject({
        'messaging.system': 'rabbitmq',
        'messaging.operation.type': 'process',
        'messaging.message.conversation_id': order.id,
        'order_platform.attempt': 1,
      });
    }
    for (const [service, event] of [
      ['inventory', 'order.created'],
      ['payment', 'inventory.reserved'],
      ['fulfilment', 'payment.processed'],
      ['order', 'fulfilment.placed'],
      ['notification', 'order.completed'],
    ] as const) {
      expect(has(service, `process ${event}`), `${service} consumed ${event}`).toBe(true);
    }
    expect(has('order', 'publish order.created')).toBe(true);

    // The workers' calls continue the trace, their HTTP calls to the third parties inside them.
    const charge = spans.find((span) => span.service === 'payment' && span.name === 'charge');
    const placement = spans.find((span) => span.service === 'fulfilment' && span.name === 'place order');
    const pricing = spans.find((span) => span.service === 'order' && span.name === 'price order');
    for (const work of [charge, pricing, placement]) {
      expect(work).toBeDefined();
      const calls = spans.filter(
        (span) =>
          span.parentSpanId === work?.spanId &&
          span.kind === SPAN_KIND.client &&
          typeof span.attributes['url.full'] === 'string',
      );
      expect(calls.length, `HTTP calls of ${work?.name}`).toBeGreaterThan(0);
    }
    // PostgreSQL statements are spans too, inside the request, the events and the workers.
    expect(spans.filter((span) => span.attributes['db.system.name'] === 'postgresql').length).toBeGreaterThan(
      5,
    );

    // Every log line about the order carries its trace id.
    const orderLines = logLines.filter((line) => line.correlation_id === order.id);
    expect(orderLines.length).toBeGreaterThan(4);
    for (const line of orderLines) expect(line.trace_id, String(line.msg)).toBe(traceId);
  });
});
