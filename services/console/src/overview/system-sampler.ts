import type { ServicesClient } from '../services.client.js';
import { parsePrometheusText, sumOf, type Sample } from './prometheus-text.js';

const SERVICES = ['order', 'inventory', 'payment', 'fulfilment', 'notification'] as const;
/** How often the services' metrics are read, in ms, and how many readings are kept (5 minutes). */
const INTERVAL_MS = 5_000;
const KEPT = 61;

/** What the overview shows: the system's health right now, and orders per second over the last minutes. */
export interface SystemOverview {
  /** Orders final per second, by outcome, over the last minute and the last five (null until measured). */
  rates: { window: string; completed: number | null; cancelled: number | null }[];
  inFlight: number | null;
  oldestInFlightS: number | null;
  sagaDeadlineS: number;
  /** Per service: answering, outbox backlog, oldest unsent event (s), dead letters. */
  services: {
    name: string;
    up: boolean;
    outboxBacklog: number | null;
    outboxOldestS: number | null;
    deadLetters: number | null;
  }[];
  /** Third parties: circuits open now, and failed calls in the last minute. */
  thirdParties: { openCircuits: number | null; failedCallsLastMinute: number | null };
  sampledAt: string | null;
}

interface Reading {
  at: number;
  byService: Map<string, Sample[] | undefined>;
}

/**
 * Reads every service's `/metrics` every 5 s and keeps five minutes of readings: rates come from the
 * difference of the counters (`order_duration_seconds_count` by outcome), the rest is the latest value.
 * The console keeps no other state.
 */
export function startSystemSampler(client: ServicesClient, sagaDeadlineMs: number) {
  const readings: Reading[] = [];
  async function read(): Promise<void> {
    const texts = await Promise.all(SERVICES.map((service) => client.metrics(service)));
    readings.push({
      at: Date.now(),
      byService: new Map(
        SERVICES.map((service, i) => {
          const text = texts[i];
          return [service, text === undefined ? undefined : parsePrometheusText(text)];
        }),
      ),
    });
    if (readings.length > KEPT) readings.shift();
  }
  let reading = read().catch(() => undefined);
  const timer = setInterval(() => {
    reading = read().catch(() => undefined);
  }, INTERVAL_MS);
  timer.unref();

  function rate(window: string, seconds: number): SystemOverview['rates'][number] {
    const latest = readings.at(-1);
    const earliest = readings.find((r) => latest && r.at >= latest.at - seconds * 1000 - INTERVAL_MS / 2);
    const now = latest?.byService.get('order');
    const then = earliest?.byService.get('order');
    if (!latest || !earliest || earliest === latest || !now || !then) {
      return { window, completed: null, cancelled: null };
    }
    const elapsedS = (latest.at - earliest.at) / 1000;
    const per = (outcome: string) =>
      (sumOf(now, 'order_duration_seconds_count', { outcome }) -
        sumOf(then, 'order_duration_seconds_count', { outcome })) /
      elapsedS;
    return { window, completed: per('completed'), cancelled: per('cancelled') };
  }

  return {
    /** The overview from the readings so far (waits for the first one). */
    async overview(): Promise<SystemOverview> {
      await reading;
      const latest = readings.at(-1);
      const minuteAgo = readings.find((r) => latest && r.at >= latest.at - 60_000);
      const order = latest?.byService.get('order');
      // The pricing calls that got no answer (the other outcomes, found and not_found, are answers).
      const failed = (samples: Sample[] | undefined) =>
        samples &&
        ['unavailable', 'circuit_open', 'rejected'].reduce(
          (sum, outcome) => sum + sumOf(samples, 'third_party_call_duration_seconds_count', { outcome }),
          0,
        );
      const failedNow = failed(order);
      const failedThen = failed(minuteAgo?.byService.get('order'));
      return {
        rates: [rate('last minute', 60), rate('last 5 minutes', 300)],
        inFlight: order ? sumOf(order, 'orders_in_flight') : null,
        oldestInFlightS: order ? sumOf(order, 'orders_oldest_in_flight_age_seconds') : null,
        sagaDeadlineS: sagaDeadlineMs / 1000,
        services: SERVICES.map((name) => {
          const samples = latest?.byService.get(name);
          return {
            name,
            up: samples !== undefined,
            outboxBacklog: samples ? sumOf(samples, 'outbox_backlog_messages') : null,
            outboxOldestS: samples ? sumOf(samples, 'outbox_oldest_unpublished_age_seconds') : null,
            deadLetters: samples ? sumOf(samples, 'dead_letter_messages') : null,
          };
        }),
        thirdParties: {
          openCircuits: order ? sumOf(order, 'third_party_open_circuits') : null,
          failedCallsLastMinute:
            failedNow === undefined || failedThen === undefined ? null : failedNow - failedThen,
        },
        sampledAt: latest ? new Date(latest.at).toISOString() : null,
      };
    },
    stop: () => clearInterval(timer),
  };
}

export type SystemSampler = ReturnType<typeof startSystemSampler>;
