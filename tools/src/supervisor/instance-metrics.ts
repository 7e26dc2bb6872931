import { randomUUID } from 'node:crypto';
import type { Worker } from 'node:cluster';
import { createServer } from 'node:http';
import { AggregatorRegistry } from 'prom-client';
import { INSTANCE_METRICS_REQUEST, INSTANCE_METRICS_RESPONSE } from '@platform/observability';

/**
 * How long an instance may take to answer, in ms: clearly less than the 2 s a reader such as the console
 * waits for the whole scrape.
 */
const ANSWER_TIMEOUT_MS = 1_000;

/** One instance's metrics as prom-client's `getMetricsAsJSON` gives them. */
type InstanceMetrics = { type?: unknown; values?: unknown }[];

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
 * ones every instance reads from the same rows or queue).
 *
 * Sums of counters must not go down, or every rate computed from them turns negative for a while: an
 * instance that does not answer within 1 s counts with its last answer, and the counters and histograms of
 * an instance that died stay in the sum as they last were (what it counted after its last scrape is
 * lost). The `x-instances` header gives the instances that answered over those there should be; when no
 * running instance has ever answered the answer is `503`, as the shared port would refuse.
 */
export async function serveInstanceMetrics(
  instances: () => readonly (Worker | undefined)[],
): Promise<InstanceMetricsServer> {
  const lastAnswers = new Map<number, InstanceMetrics>();
  let departed: InstanceMetrics[] = [];

  async function scrape(): Promise<{
    text: string;
    contentType: string;
    answered: number;
    of: number;
    known: number;
  }> {
    const slots = instances();
    const running = slots.filter((worker): worker is Worker => worker?.isConnected() === true);
    const answers = await Promise.all(running.map(askForMetrics));
    running.forEach((worker, i) => {
      const answer = answers[i];
      if (answer) lastAnswers.set(worker.id, answer);
    });
    const runningIds = new Set(running.map((worker) => worker.id));
    for (const [id, answer] of lastAnswers) {
      if (runningIds.has(id)) continue;
      lastAnswers.delete(id);
      departed = await compact([...departed, cumulativeOnly(answer)]);
    }
    const current = running.flatMap((worker) => {
      const answer = lastAnswers.get(worker.id);
      return answer ? [answer] : [];
    });
    const registry = AggregatorRegistry.aggregate([...current, ...departed]);
    return {
      text: await registry.metrics(),
      contentType: registry.contentType,
      answered: answers.filter(Boolean).length,
      of: slots.length,
      known: current.length,
    };
  }

  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    scrape().then(
      ({ text, contentType, answered, of, known }) => {
        const headers = { 'x-instances': `${answered}/${of}` };
        if (known === 0) response.writeHead(503, headers).end('no instance running has answered\n');
        else response.writeHead(200, { ...headers, 'content-type': contentType }).end(text);
      },
      (error: unknown) => response.writeHead(500).end(`${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/metrics`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The counters and histograms of an instance's metrics: what keeps adding up after it is gone. */
function cumulativeOnly(metrics: InstanceMetrics): InstanceMetrics {
  return metrics.filter((metric) => metric.type === 'counter' || metric.type === 'histogram');
}

/** Several departed instances' metrics as one (their sum), so that the list does not grow with restarts. */
async function compact(parts: InstanceMetrics[]): Promise<InstanceMetrics[]> {
  if (parts.length <= 1) return parts;
  return [await AggregatorRegistry.aggregate(parts).getMetricsAsJSON()];
}

/** One instance's metrics, or undefined when it did not answer in time or went away meanwhile. */
function askForMetrics(worker: Worker): Promise<InstanceMetrics | undefined> {
  const id = randomUUID();
  return new Promise((resolve) => {
    const done = (metrics: InstanceMetrics | undefined) => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('exit', onGone);
      resolve(metrics);
    };
    const onMessage = (message: unknown) => {
      const answer = message as { type?: unknown; id?: unknown; metrics?: unknown } | null;
      if (answer?.type === INSTANCE_METRICS_RESPONSE && answer.id === id) {
        done(Array.isArray(answer.metrics) ? (answer.metrics as InstanceMetrics) : undefined);
      }
    };
    const onGone = () => done(undefined);
    const timer = setTimeout(onGone, ANSWER_TIMEOUT_MS);
    worker.on('message', onMessage);
    worker.once('exit', onGone);
    worker.send({ type: INSTANCE_METRICS_REQUEST, id }, (error: Error | null) => {
      if (error) onGone();
    });
  });
}
