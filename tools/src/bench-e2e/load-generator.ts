/**
 * The benchmark's load generator, a process of its own (forked by main.ts, driven over IPC): it sends
 * `POST /orders` open loop at a fixed rate and listens on a queue of its own for each order's final event.
 * Open loop means a request is sent at its scheduled time whether or not earlier ones were answered, and
 * its latency counts from that time: a system that stalls cannot hide it by slowing the load down
 * (coordinated omission).
 */
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
let broker: Connection | undefined;
let closeFinals: (() => Promise<void>) | undefined;

function reply(message: LoadReply): void {
  process.send?.(message);
}

async function setUp(setup: LoadSetup): Promise<void> {
  pool = new Pool(setup.orderUrl, {
    connections: setup.connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
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

async function runStep(step: RunStep): Promise<StepResult> {
  if (!pool) throw new Error('load generator not set up');
  const client = pool;
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
      const response = await client.request({
        path: '/orders',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      status = String(response.statusCode);
      const text = await response.body.text();
      if (response.statusCode === 201) {
        const id = (JSON.parse(text) as { id?: unknown }).id;
        if (typeof id === 'string') accepted.set(id, scheduledAt);
      } else if (response.statusCode === 503 && response.headers['retry-after'] !== undefined) {
        retryAfter += 1;
      }
    } catch {
      status = 'error';
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
