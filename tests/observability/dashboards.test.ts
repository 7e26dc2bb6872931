import { readFile } from 'node:fs/promises';
import { parser } from '@prometheus-io/lezer-promql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { waitFor } from '@platform/testing';
import { ask, startTestSystem, type TestSystem } from '../saga/system.harness.js';

// The dashboard and the alert rules are code: every expression parses as PromQL, and every metric and
// label it uses is one a service of a running system exports.

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: { severity?: string };
  annotations?: { summary?: string };
}
interface Dashboard {
  uid: string;
  panels: { title: string; targets: { expr: string }[] }[];
}

const root = new URL('../../', import.meta.url);
const read = async (path: string) => readFile(new URL(path, root), 'utf8');
const alerts = async () =>
  (parse(await read('ops/prometheus/alerts.yml')) as { groups: { rules: AlertRule[] }[] }).groups.flatMap(
    (group) => group.rules,
  );
const dashboard = async () =>
  JSON.parse(await read('ops/grafana/dashboards/order-platform.json')) as Dashboard;

/** What an expression uses: metric names, label names, and its syntax errors. */
function usage(expr: string): { metrics: string[]; labels: string[]; errors: string[] } {
  const metrics: string[] = [];
  const labels: string[] = [];
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      const text = expr.slice(node.from, node.to);
      if (node.type.isError)
        errors.push(`at ${node.from}: ${JSON.stringify(expr.slice(node.from, node.from + 20))}`);
      else if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') metrics.push(text);
      else if (node.name === 'LabelName') labels.push(text);
    },
  });
  return { metrics, labels, errors };
}

/** Every metric family a running service exports, with the label names its samples carry. */
async function exported(urls: string[]): Promise<Map<string, Set<string>>> {
  const families = new Map<string, Set<string>>();
  for (const url of urls) {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const line of text.split('\n')) {
      const declared = /^# TYPE (\S+) /.exec(line);
      if (declared?.[1]) families.set(declared[1], families.get(declared[1]) ?? new Set());
      const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/.exec(line);
      if (!sample?.[1] || !sample[2]) continue;
      const name = sample[1];
      const labelSet = families.get(name) ?? new Set<string>();
      for (const pair of sample[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g))
        if (pair[1]) labelSet.add(pair[1]);
      families.set(name, labelSet);
    }
  }
  return families;
}

describe('the dashboard and the alert rules', () => {
  let system: TestSystem;
  let families: Map<string, Set<string>>;

  beforeAll(async () => {
    system = await startTestSystem('observability');
    const q = ask(system);
    // A completed order, a cancelled one, and a client error: the series the dashboard reads get samples.
    const completed = await q.placeOrder({
      user_id: 'customer-123',
      items: [{ product_code: 'classic-box', quantity: 1 }],
    });
    const cancelled = await q.placeOrder({
      user_id: 'customer-123',
      items: [{ product_code: 'product-C', quantity: 1 }],
    });
    await q.finalOrder(completed);
    await q.finalOrder(cancelled);
    await waitFor('notified', async () => (await q.notificationKinds(completed)).includes('order.completed'));
    await fetch(`${system.urls.order}/orders/not-an-order`);
    families = await exported(Object.values(system.urls));
  }, 90_000);
  afterAll(async () => system.remove(), 60_000);

  it('alert rules are well formed: every rule has an expression that parses, a duration, a severity and a summary', async () => {
    const rules = await alerts();
    expect(rules.length).toBeGreaterThanOrEqual(5);
    for (const rule of rules) {
      expect(usage(rule.expr).errors, rule.alert).toEqual([]);
      expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
      expect(['page', 'ticket'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
    }
  });

  it('every dashboard query parses as PromQL', async () => {
    const { panels } = await dashboard();
    expect(panels.length).toBeGreaterThanOrEqual(10);
    for (const panel of panels) {
      for (const target of panel.targets) expect(usage(target.expr).errors, panel.title).toEqual([]);
    }
  });

  it('uses only metrics and labels the services export', async () => {
    const exprs = [
      ...(await alerts()).map((rule) => rule.expr),
      ...(await dashboard()).panels.flatMap((panel) => panel.targets.map((target) => target.expr)),
    ];
    const problems: string[] = [];
    for (const expr of exprs) {
      const { metrics, labels } = usage(expr);
      const known = new Set<string>(['le']);
      for (const metric of metrics) {
        const family = families.get(metric);
        if (!family) problems.push(`${metric} is exported by no service`);
        for (const label of family ?? []) known.add(label);
      }
      for (const label of labels)
        if (!known.has(label)) problems.push(`label ${label} is on none of ${metrics.join(', ')}`);
    }
    expect(problems).toEqual([]);
  });

  it('exports the on-call metrics with their samples: saga duration by outcome, steps, lag, queue depth, dead letters', () => {
    const expectLabels = (name: string, labels: string[]) =>
      expect([...(families.get(name) ?? [])], name).toEqual(expect.arrayContaining(labels));
    expectLabels('order_duration_seconds_count', ['service', 'outcome', 'reason']);
    expectLabels('order_step_duration_seconds_count', ['service', 'step']);
    expectLabels('event_consume_lag_seconds_count', ['service', 'type']);
    for (const name of ['consumer_queue_messages', 'dead_letter_messages']) expectLabels(name, ['service']);
  });

  it('are wired in docker-compose: Prometheus scrapes every instance of every service on its port and loads the rules; Grafana is provisioned; the services export traces to Jaeger', async () => {
    const compose = parse(await read('docker-compose.yml'), { merge: true }) as {
      services: Record<
        string,
        { image?: string; ports?: string[]; volumes?: string[]; environment?: Record<string, string> }
      >;
    };
    const prometheus = parse(await read('ops/prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: { dns_sd_configs: { names: string[]; type: string; port: number }[] }[];
    };
    // Every instance of a service is a target of its own (DNS A records, one per container).
    const discovery = prometheus.scrape_configs.flatMap((job) => job.dns_sd_configs);
    expect(new Set(discovery.map((entry) => entry.type))).toEqual(new Set(['A']));
    const targets = discovery.flatMap((entry) => entry.names.map((name) => `${name}:${entry.port}`));
    const expected = Object.keys(system.urls).map((name) => {
      const port = compose.services[name]?.ports?.[0]?.split(':').at(-1);
      return `${name}:${port ?? '?'}`;
    });
    expect(targets.sort()).toEqual(expected.sort());
    expect(prometheus.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    expect(compose.services.prometheus?.volumes).toContain('./ops/prometheus:/etc/prometheus:ro');
    expect(compose.services.grafana?.volumes).toEqual([
      './ops/grafana/provisioning:/etc/grafana/provisioning:ro',
      './ops/grafana/dashboards:/var/lib/grafana/dashboards:ro',
    ]);
    const jaeger = compose.services.jaeger;
    expect(jaeger?.image).toMatch(/^jaegertracing\/jaeger:2\./);
    expect(jaeger?.ports).toEqual(expect.arrayContaining(['127.0.0.1:16686:16686', '127.0.0.1:4318:4318']));
    for (const name of Object.keys(system.urls)) {
      expect(compose.services[name]?.environment, name).toMatchObject({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      });
    }
    const datasources = parse(await read('ops/grafana/provisioning/datasources/datasources.yml')) as {
      datasources: { type: string; url: string }[];
    };
    expect(datasources.datasources.map(({ type, url }) => `${type} ${url}`)).toEqual([
      'prometheus http://prometheus:9090',
      'jaeger http://jaeger:16686',
    ]);
  });
});
