import { setTimeout as sleep } from 'node:timers/promises';

const PROBE_TIMEOUT_MS = 2_000;

/**
 * The sum of a metric's samples in Prometheus text exposition format (prometheus.io "Exposition
 * formats"): every line `name value` or `name{labels} value`, keeping only the samples whose labels
 * contain `labelFilter` (e.g. `outcome="handled"`) when given. 0 when the metric has no sample; the
 * maximum instead of the sum when `aggregate` is 'max'.
 */
export function metricValue(
  text: string,
  name: string,
  options: { labelFilter?: string; aggregate?: 'sum' | 'max' } = {},
): number {
  const values: number[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!rest.startsWith(' ') && !rest.startsWith('{')) continue;
    const labels = rest.startsWith('{') ? rest.slice(0, rest.indexOf('}') + 1) : '';
    if (options.labelFilter !== undefined && !labels.includes(options.labelFilter)) continue;
    const value = Number(rest.slice(labels.length).trim().split(' ')[0]);
    if (Number.isFinite(value)) values.push(value);
  }
  if (values.length === 0) return 0;
  return options.aggregate === 'max' ? Math.max(...values) : values.reduce((sum, value) => sum + value, 0);
}

/** A service's `/metrics` text, or undefined when it does not answer (down, restarting, frozen). */
export async function scrapeMetrics(serviceUrl: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${serviceUrl}/metrics`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    return response.ok ? await response.text() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * JSON from a query API, or undefined when it does not answer or answers other than 200 or 404. The body
 * is what the API documents; the caller names that shape.
 */
export async function getJson(
  url: string,
  token?: string,
): Promise<{ status: number; body: unknown } | undefined> {
  try {
    const response = await fetch(url, {
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS * 5),
    });
    if (response.status !== 200 && response.status !== 404) return undefined;
    return { status: response.status, body: await response.json() };
  } catch {
    return undefined;
  }
}

/**
 * Polls `check` every `intervalMs` until it holds; resolves with the ms it took from `since` (ms since
 * the epoch), or null when it still did not hold after `timeoutMs`.
 */
export async function timeUntil(
  check: () => Promise<boolean>,
  since: number,
  timeoutMs: number,
  intervalMs = 100,
): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return Date.now() - since;
    await sleep(intervalMs);
  }
  return null;
}
