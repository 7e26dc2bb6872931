/**
 * The benchmark's load generator, a process of its own (forked by main.ts, driven over IPC): it sends
 * `POST /orders` open loop at a fixed rate and listens on a queue of its own for each order's final event.
 * Open loop means a request is sent at its scheduled time whether or not earlier ones were answered, and
 * its latency counts from that time: a system that stalls cannot hide it by slowing the load down
 * (coordinated omission).
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import hdr from 'hdr-histogram-js';
import { Connection, type AsyncMessage } from 'rabbitmq-client';
import { Pool } from 'undici';
import { OrderEvents } from '@platform/contracts';
import type { LoadCommand, LoadReply, LoadSetup, Percentiles, RunStep, StepResult } from './load-protocol.js';

/** Wall-clock milliseconds with sub-millisecond resolution (comparable across the step). */
const now = (): number => performance.timeOrigin + performance.now();

interface Final {
  at: number;
  outcome: string;
}

const finals = new Map<string, Final>();
/** Final events received, whichever step's orders they were about. */
let finalsReceived = 0;
let pool: Pool | undefined;
let orderUrl: URL | undefined;
/** How long a request may go unanswered before it counts as `timeout`, in ms. */
const REQUEST_TIMEOUT_MS = 10_000;
let broker: Connection | undefined;
let closeFinals: (() => Promise<void>) | undefined;

function reply(message: LoadReply): void {
  process.send?.(message);
}

async function setUp(setup: LoadSetup): Promise<void> {
  orderUrl = new URL('/orders', setup.orderUrl);
  pool = new Pool(setup.orderUrl, {
    connections: setup.connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
  });
  broker = new Connection({ url: setup.rabbitmqUrl, connectionName: 'bench-load-generator' });
  const queue = `${setup.exchange}.bench-finals`;
  // A classic, exclusive, auto-deleted queue: gone with this process, whatever happens to it.
  const consumer = broker.createConsumer(
    {
      queue,
      noAck: true,
      queueOptions: { exclusive: true, autoDelete: true },
      queueBindings: [OrderEvents.completed, OrderEvents.cancelled].map((routingKey) => ({
        exchange: setup.exchange,
        routingKey,
      })),
    },
    (message: AsyncMessage) => {
      const at = now();
      const event = (Buffer.isBuffer(message.body) ? JSON.parse(message.body.toString()) : message.body) as {
        type?: string;
        correlation_id?: string;
        payload?: { reason?: string };
      };
      if (typeof event.correlation_id !== 'string' || finals.has(event.correlation_id)) return;
      const outcome =
        event.type === OrderEvents.completed ? 'COMPLETED' : `CANCELLED ${event.payload?.reason ?? '?'}`;
      finals.set(event.correlation_id, { at, outcome });
      finalsReceived += 1;
    },
  );
  await new Promise<void>((resolve) => consumer.once('ready', () => resolve()));
  closeFinals = () => consumer.close();
}

/** Latency percentiles of a histogram recorded in microseconds, in ms. */
function histogramPercentiles(histogram: hdr.Histogram): Percentiles {
  const at = (q: number) => histogram.getValueAtPercentile(q) / 1000;
  return { p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: histogram.maxValue / 1000 };
}

function sortedPercentiles(values: number[]): Percentiles {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => {
    if (sorted.length === 0) return Number.NaN;
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
  };
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: at(1) };
}

/** An answer: its status, its Retry-After header and its body. */
interface Answer {
  status: number;
  retryAfter: boolean;
  body: string;
}

/** `POST /orders` over the pool's kept-alive connections. */
async function postPooled(client: Pool, body: string): Promise<Answer> {
  const response = await client.request({
    path: '/orders',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return {
    status: response.statusCode,
    retryAfter: response.headers['retry-after'] !== undefined,
    body: await response.body.text(),
  };
}

/**
 * `POST /orders` on a connection of its own, closed after the answer (no agent, `Connection: close`): what
 * a crowd of independent clients does, each paying for its own connection.
 */
function postOnNewConnection(url: URL, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          connection: 'close',
          'content-length': Buffer.byteLength(body),
        },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (response: IncomingMessage) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            retryAfter: response.headers['retry-after'] !== undefined,
            body: text,
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new TimeoutError()));
    request.on('error', reject);
    request.end(body);
  });
}

class TimeoutError extends Error {}

async function runStep(step: RunStep): Promise<StepResult> {
  if (!pool || !orderUrl) throw new Error('load generator not set up');
  const client = pool;
  const url = orderUrl;
  const intake = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const statuses: Record<string, number> = {};
  const accepted = new Map<string, number>();
  let retryAfter = 0;
  const total = Math.round(step.rate * step.durationS);
  const intervalMs = 1000 / step.rate;
  const inFlight = new Set<Promise<void>>();

  async function send(index: number, scheduledAt: number): Promise<void> {
    const body = step.bodies[index % step.bodies.length] ?? '{}';
    let status = 'error';
    try {
      const answer =
        step.connections === 'pooled' ? await postPooled(client, body) : await postOnNewConnection(url, body);
      status = String(answer.status);
      if (answer.status === 201) {
        const id = (JSON.parse(answer.body) as { id?: unknown }).id;
        if (typeof id === 'string') accepted.set(id, scheduledAt);
      } else if (answer.status === 503 && answer.retryAfter) {
        retryAfter += 1;
      }
    } catch (error) {
      const name = (error as { name?: string; code?: string }).name;
      status = error instanceof TimeoutError || name === 'HeadersTimeoutError' ? 'timeout' : 'error';
    }
    intake.recordValue(Math.max(1, Math.round((now() - scheduledAt) * 1000)));
    statuses[status] = (statuses[status] ?? 0) + 1;
  }

  const started = now();
  const finalsBefore = finalsReceived;
  await new Promise<void>((resolve) => {
    let next = 0;
    const tick = (): void => {
      const elapsed = now() - started;
      while (next < total && next * intervalMs <= elapsed) {
        const request = send(next, started + next * intervalMs);
        inFlight.add(request);
        void request.finally(() => inFlight.delete(request));
        next += 1;
      }
      if (next >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(inFlight);

  const drainUntil = now() + step.drainS * 1000;
  const unfinished = () => [...accepted.keys()].filter((id) => !finals.has(id)).length;
  while (unfinished() > 0 && now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 50));

  const steadyFrom = started + step.steadyFromS * 1000;
  const loadEnd = started + step.durationS * 1000;
  let steadyFinals = 0;
  let lastFinal = started;
  const toFinal: number[] = [];
  const outcomes: Record<string, number> = {};
  for (const [id, scheduledAt] of accepted) {
    const final = finals.get(id);
    if (!final) continue;
    toFinal.push(final.at - scheduledAt);
    outcomes[final.outcome] = (outcomes[final.outcome] ?? 0) + 1;
    if (final.at >= steadyFrom && final.at <= loadEnd) steadyFinals += 1;
    lastFinal = Math.max(lastFinal, final.at);
    finals.delete(id);
  }
  const notFinal = accepted.size - toFinal.length;
  return {
    rate: step.rate,
    durationS: step.durationS,
    sent: total,
    accepted: accepted.size,
    statuses,
    retryAfter,
    intakeMs: histogramPercentiles(intake),
    steadyFinalsPerS: steadyFinals / (step.durationS - step.steadyFromS),
    orderToFinalMs: sortedPercentiles(toFinal),
    notFinal,
    outcomes,
    finalsDuringStep: finalsReceived - finalsBefore,
    elapsedMs: (notFinal > 0 ? now() : lastFinal) - started,
  };
}

process.on('message', (command: LoadCommand) => {
  void (async () => {
    switch (command.kind) {
      case 'setup':
        await setUp(command);
        reply({ kind: 'ready' });
        return;
      case 'run':
        reply({ kind: 'result', result: await runStep(command) });
        return;
      case 'stop':
        await closeFinals?.();
        await broker?.close();
        await pool?.close();
        process.exit(0);
    }
  })().catch((error: unknown) => {
    console.error('load generator failed:', error);
    process.exit(1);
  });
});
