import { randomUUID } from 'node:crypto';
import type { Worker } from 'node:cluster';
import { createServer } from 'node:http';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { INSTANCE_METRICS_REQUEST, INSTANCE_METRICS_RESPONSE } from '@platform/observability';

/** How long an instance may take to answer before a scrape goes on without it, in ms. */
const ANSWER_TIMEOUT_MS = 2_000;

/** The all-instances `/metrics` of one replicated service, served by the supervisor. */
export interface InstanceMetricsServer {
  /** `http://127.0.0.1:<port>/metrics`. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` on a free port of 127.0.0.1 for the instances of one service that share a port
 * (`npm start -- --replicas`): each scrape asks every running instance for its metrics over the cluster's
 * IPC channel (`answerInstanceMetricsRequests` in the worker) and answers their aggregation by prom-client
 * (`AggregatorRegistry.aggregate`: counters and histograms added up, gauges as each declares, `max` for the
 * ones every instance reads from the same rows or queue). An instance that does not answer within 2 s
 * (restarting, say) is left out; the `x-instances` header says how many answered, of how many asked.
 */
export async function serveInstanceMetrics(
  instances: () => readonly (Worker | undefined)[],
): Promise<InstanceMetricsServer> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    const running = instances().filter((worker): worker is Worker => worker?.isConnected() === true);
    void Promise.all(running.map(askForMetrics)).then(async (answers) => {
      const answered = answers.filter((metrics): metrics is object[] => metrics !== undefined);
      const registry: Registry = AggregatorRegistry.aggregate(answered);
      response.writeHead(200, {
        'content-type': registry.contentType,
        'x-instances': `${answered.length}/${running.length}`,
      });
      response.end(await registry.metrics());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/metrics`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** One instance's metrics (prom-client's JSON), or undefined when it did not answer in time. */
function askForMetrics(worker: Worker): Promise<object[] | undefined> {
  const id = randomUUID();
  return new Promise((resolve) => {
    const done = (metrics: object[] | undefined) => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      resolve(metrics);
    };
    const onMessage = (message: unknown) => {
      const answer = message as { type?: unknown; id?: unknown; metrics?: unknown } | null;
      if (answer?.type === INSTANCE_METRICS_RESPONSE && answer.id === id) {
        done(Array.isArray(answer.metrics) ? (answer.metrics as object[]) : undefined);
      }
    };
    const timer = setTimeout(() => done(undefined), ANSWER_TIMEOUT_MS);
    worker.on('message', onMessage);
    try {
      worker.send({ type: INSTANCE_METRICS_REQUEST, id });
    } catch {
      // The instance went away since it was counted: left out, as one that does not answer.
      done(undefined);
    }
  });
}
