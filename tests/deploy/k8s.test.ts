import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster } from '@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

// deploy/k8s (issue 15, part): each overlay rendered by kustomize (the machine's kubectl), every object
// validated offline against the Kubernetes schemas (kubernetes-models) and the CRDs' (KEDA, CloudNativePG);
// the RabbitMQ Cluster Operator has no published models, and CloudNativePG's `Database` (1.25) is newer
// than the models that run on Node 20: their fields are checked by hand.
const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

type Model = new (data: never) => { validate(): void };
const MODELS: Record<string, Model> = {
  'apps/v1 Deployment': Deployment,
  'apps/v1 StatefulSet': StatefulSet,
  'autoscaling/v2 HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'v1 ConfigMap': ConfigMap,
  'v1 Namespace': Namespace,
  'v1 Secret': Secret,
  'v1 Service': Service,
  'keda.sh/v1alpha1 ScaledObject': ScaledObject,
  'keda.sh/v1alpha1 TriggerAuthentication': TriggerAuthentication,
  'postgresql.cnpg.io/v1 Cluster': Cluster,
};

/**
 * `npm run k8s:dev-secrets` as a developer runs it (the built tool: `npm test` builds first), writing
 * `file` (by default the dev overlay's secrets.env, which its secretGenerator reads); its stdout.
 */
async function generateDevSecrets(file?: string): Promise<string> {
  const args = ['tools/dist/k8s-dev-secrets.js', ...(file === undefined ? [] : [file])];
  return (await run(process.execPath, args, { cwd: root })).stdout;
}

async function render(overlay: string): Promise<K8sObject[]> {
  const { stdout } = await run('kubectl', ['kustomize', `deploy/k8s/overlays/${overlay}`], { cwd: root });
  return parseAllDocuments(stdout).map((document) => document.toJS() as K8sObject);
}

/** Every object valid against its schema; the RabbitmqCluster's fields checked by hand. */
function validateAll(objects: readonly K8sObject[]): void {
  for (const object of objects) {
    const key = `${object.apiVersion} ${object.kind}`;
    if (key === 'rabbitmq.com/v1beta1 RabbitmqCluster') {
      const spec = object.spec as {
        replicas?: unknown;
        image?: unknown;
        persistence?: { storage?: unknown };
      };
      expect(Number.isInteger(spec.replicas), 'RabbitmqCluster replicas').toBe(true);
      expect(typeof spec.image).toBe('string');
      expect(spec.persistence?.storage).toMatch(/^\d+Gi$/);
      continue;
    }
    if (object.kind === 'Secret') {
      // kustomize folds long base64 values over lines; the API server's decoder skips the newlines, the
      // schema's "byte" format does not: compare what the server reads.
      const data = (object as { data?: Record<string, string> }).data ?? {};
      for (const name of Object.keys(data)) data[name] = (data[name] ?? '').replace(/\s+/g, '');
    }
    if (key === 'postgresql.cnpg.io/v1 Database') {
      const spec = object.spec as { name?: unknown; owner?: unknown; cluster?: { name?: unknown } };
      expect([typeof spec.name, typeof spec.owner, typeof spec.cluster?.name]).toEqual([
        'string',
        'string',
        'string',
      ]);
      continue;
    }
    const model = MODELS[key];
    expect(model, `${key} has a schema here`).toBeDefined();
    // Throws with the path of what is wrong.
    expect(
      () => new (model as Model)(object as never).validate(),
      `${key} ${object.metadata.name}`,
    ).not.toThrow();
  }
}

const SERVICES = ['order', 'inventory', 'payment', 'fulfilment', 'notification', 'console'];

/** The databases of the dev overlay's PostgreSQL, by the prefix of each service's <NAME>_DATABASE_URL. */
const DATABASES = {
  ORDER: 'orders',
  INVENTORY: 'inventory',
  PAYMENT: 'payments',
  FULFILMENT: 'fulfilment',
  NOTIFICATION: 'notifications',
};
/** What `npm run k8s:dev-secrets` generates, and the dev overlay's Secret holds. */
const DEV_SECRET_KEYS = [
  'DATABASE_PASSWORD',
  'RABBITMQ_USER',
  'RABBITMQ_PASSWORD',
  'RABBITMQ_URL',
  ...Object.keys(DATABASES).map((prefix) => `${prefix}_DATABASE_URL`),
  'AUTH_JWT_SECRET',
  'CONSOLE_SESSION_SECRET',
];

type Container = {
  ports: { containerPort: number }[];
  readinessProbe?: { httpGet?: { path: string } };
  livenessProbe?: { httpGet?: { path: string } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
};
type DeploymentSpec = {
  replicas: number;
  template: {
    metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
    spec: { containers: Container[]; terminationGracePeriodSeconds?: number };
  };
};

describe('Kubernetes manifests (kustomize)', () => {
  // The dev overlay's secrets live on the developer's machine only: made here as `npm run k8s:dev-secrets`
  // makes them (kept if they exist), or the overlay does not render.
  beforeAll(async () => {
    await generateDevSecrets();
  });

  it.each(['dev', 'prod'])('%s renders, and every object validates against its schema', async (overlay) => {
    const objects = await render(overlay);
    expect(objects.length).toBeGreaterThan(20);
    validateAll(objects);

    const named = (kind: string, name: string) =>
      objects.find((object) => object.kind === kind && object.metadata.name === name);
    for (const service of SERVICES) {
      const deployment = named('Deployment', service);
      const spec = deployment?.spec as DeploymentSpec | undefined;
      const container = spec?.template.spec.containers[0];
      expect(container?.readinessProbe?.httpGet?.path, service).toBe('/health/ready');
      expect(container?.livenessProbe?.httpGet?.path, service).toBe('/health/live');
      expect(container?.resources?.requests?.cpu, service).toBeDefined();
      expect(container?.resources?.limits?.memory, service).toBeDefined();
      // Longer than the service's own bounded shutdown (15 s).
      expect(spec?.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(15);
      expect(deployment?.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': service,
        'app.kubernetes.io/part-of': 'order-platform',
      });
      if (service !== 'console') {
        expect(spec?.template.metadata.annotations?.['prometheus.io/scrape'], service).toBe('true');
      }
      const port = container?.ports[0]?.containerPort;
      const svc = named('Service', service)?.spec as { ports: { port: number }[] } | undefined;
      expect(
        svc?.ports.map((p) => p.port),
        service,
      ).toEqual([port]);
      expect(named('PodDisruptionBudget', service), service).toBeDefined();
    }
  });

  it('dev runs the simulators, one RabbitMQ and one PostgreSQL; prod the operators’ clusters and scaling', async () => {
    const dev = await render('dev');
    expect(
      dev
        .filter((o) => o.kind === 'StatefulSet')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['postgres', 'rabbitmq']);
    expect(dev.some((o) => o.kind === 'Deployment' && o.metadata.name === 'simulators')).toBe(true);

    const prod = await render('prod');
    const kinds = new Set(prod.map((o) => o.kind));
    expect([...kinds]).toEqual(
      expect.arrayContaining([
        'RabbitmqCluster',
        'Cluster',
        'Database',
        'ScaledObject',
        'HorizontalPodAutoscaler',
      ]),
    );
    expect(prod.find((o) => o.kind === 'RabbitmqCluster')?.spec).toMatchObject({ replicas: 3 });
    expect(prod.find((o) => o.kind === 'Cluster')?.spec).toMatchObject({ instances: 3 });
    for (const service of SERVICES.filter((name) => name !== 'console')) {
      const spec = prod.find((o) => o.kind === 'Deployment' && o.metadata.name === service)?.spec as
        DeploymentSpec | undefined;
      expect(spec?.replicas, service).toBe(2);
    }
    // Nothing secret in prod: the Secret is the operator's to create.
    expect(prod.some((o) => o.kind === 'Secret')).toBe(false);
  });

  it('dev takes every secret from the generated file, and RabbitMQ and PostgreSQL their passwords from it', async () => {
    const dev = await render('dev');
    const secret = dev.find((o) => o.kind === 'Secret' && o.metadata.name === 'order-platform-secrets') as
      { data?: Record<string, string> } | undefined;
    const values = Object.fromEntries(
      Object.entries(secret?.data ?? {}).map(([name, value]) => [
        name,
        Buffer.from(value.replace(/\s+/g, ''), 'base64').toString('utf8'),
      ]),
    );
    expect(Object.keys(values).sort()).toEqual([...DEV_SECRET_KEYS].sort());
    for (const name of DEV_SECRET_KEYS) expect(values[name], name).toMatch(/\S/);
    expect(values.RABBITMQ_URL).toBe(
      `amqp://${values.RABBITMQ_USER ?? ''}:${values.RABBITMQ_PASSWORD ?? ''}@rabbitmq:5672`,
    );
    for (const [prefix, database] of Object.entries(DATABASES)) {
      expect(values[`${prefix}_DATABASE_URL`]).toBe(
        `postgres://app:${values.DATABASE_PASSWORD ?? ''}@postgres:5432/${database}`,
      );
    }
    expect((values.AUTH_JWT_SECRET ?? '').length).toBeGreaterThanOrEqual(32);
    expect((values.CONSOLE_SESSION_SECRET ?? '').length).toBeGreaterThanOrEqual(32);

    type Env = { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
    const env = (name: string) =>
      (
        dev.find((o) => o.kind === 'StatefulSet' && o.metadata.name === name)?.spec as
          { template: { spec: { containers: { env?: Env }[] } } } | undefined
      )?.template.spec.containers[0]?.env ?? [];
    const fromSecret = (name: string) =>
      Object.fromEntries(env(name).map((variable) => [variable.name, variable.valueFrom?.secretKeyRef?.key]));
    expect(fromSecret('rabbitmq')).toMatchObject({
      RABBITMQ_DEFAULT_USER: 'RABBITMQ_USER',
      RABBITMQ_DEFAULT_PASS: 'RABBITMQ_PASSWORD',
    });
    expect(fromSecret('postgres')).toMatchObject({ POSTGRES_PASSWORD: 'DATABASE_PASSWORD' });
  });

  it('no manifest carries a secret value (SPEC §4.10)', async () => {
    const files = (await readdir(join(root, 'deploy/k8s'), { recursive: true }))
      .filter((file) => /\.ya?ml$/.test(file))
      .map((file) => join('deploy/k8s', file));
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      const text = await readFile(join(root, file), 'utf8');
      for (const literal of ['AUTH_JWT_SECRET=', 'development-only', 'guest', 'never-in-production']) {
        expect(text, `${file} holds ${literal}`).not.toContain(literal);
      }
      // A URL with a password in it (amqp://user:password@…, postgres://user:password@…).
      expect(text, `${file} holds a URL with credentials`).not.toMatch(/\w+:\/\/[^\s/:@]+:[^\s/@]+@/);
      // Kustomize's generators: secrets come from a file or from the cluster, never from `literals`.
      if (/^kustomization\.ya?ml$/.test(file.split('/').pop() ?? '')) {
        const kustomization = parse(text) as { secretGenerator?: { literals?: unknown }[] };
        for (const generator of kustomization.secretGenerator ?? []) {
          expect(generator.literals, `${file}: secretGenerator literals`).toBeUndefined();
        }
      }
    }
  });

  it('k8s:dev-secrets writes the file once, mode 0600, and keeps it on a second run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'k8s-dev-secrets-'));
    try {
      const file = join(dir, 'secrets.env');
      expect(await generateDevSecrets(file)).toContain('Wrote');
      const first = await readFile(file, 'utf8');
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      for (const name of DEV_SECRET_KEYS) expect(first).toMatch(new RegExp(`^${name}=\\S+$`, 'm'));

      expect(await generateDevSecrets(file)).toContain('Kept');
      expect(await readFile(file, 'utf8')).toBe(first);

      // Random: another file, other values.
      const other = join(dir, 'other.env');
      await generateDevSecrets(other);
      const secretOf = (text: string) => /^AUTH_JWT_SECRET=(\S+)$/m.exec(text)?.[1];
      expect(secretOf(await readFile(other, 'utf8'))).not.toBe(secretOf(first));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
