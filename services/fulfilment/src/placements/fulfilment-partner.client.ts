import { Pool, type Dispatcher } from 'undici';

/** An item as the partner takes it. */
export interface PartnerItem {
  product_code: string;
  quantity: number;
}

/**
 * How one call to the partner ended; a failure of any kind (refusal, network, timeout) is a value. It is
 * `uncertain` when the partner may have placed the order all the same (no answer, or not one that says
 * it placed nothing): only its record can tell.
 */
type PlacementAttempt =
  { kind: 'placed'; placementId: string } | { kind: 'failed'; error: string; uncertain: boolean };

/** What the partner records for an order, or no usable answer this time. */
type PlacementLookup =
  { kind: 'placed'; placementId: string } | { kind: 'not_placed' } | { kind: 'unavailable'; error: string };

/** The fulfilment partner as the use cases see it: they do not know it is HTTP. */
export interface FulfilmentPartner {
  /** Places the order; idempotent per order, so a repeat returns the first placement. */
  place(orderId: string, items: readonly PartnerItem[]): Promise<PlacementAttempt>;
  findPlacement(orderId: string): Promise<PlacementLookup>;
  /** Closes the kept-alive connections. */
  close(): Promise<void>;
}

/**
 * The fulfilment partner over HTTP: `POST /placements`, idempotent per order at the partner, so asking
 * again after a timeout cannot place an order twice, and `GET /placements/{order_id}`, its record of an
 * order. Calls go over a pool of kept-alive connections (undici's `Pool`, far cheaper than `fetch`), each
 * bounded by `timeoutMs`, body included.
 */
export function createFulfilmentPartnerClient(options: {
  baseUrl: string;
  timeoutMs: number;
  /** Connections kept to the partner at most: the worker's concurrency. */
  connections: number;
}): FulfilmentPartner {
  const base = new URL(options.baseUrl);
  const path = `${base.pathname.replace(/\/+$/, '')}/placements`;
  const pool = new Pool(base.origin, { connections: options.connections });
  const call = async (request: Omit<Dispatcher.RequestOptions, 'signal'>) => {
    // undici's own headers and body timeouts tick once a second: too coarse for a limit of a few ms.
    const response = await pool.request({ ...request, signal: AbortSignal.timeout(options.timeoutMs) });
    const body: unknown = await response.body.json().catch(() => undefined);
    return { status: response.statusCode, body };
  };
  return {
    async place(orderId: string, items: readonly PartnerItem[]): Promise<PlacementAttempt> {
      try {
        const response = await call({
          method: 'POST',
          path,
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ order_id: orderId, items }),
        });
        const { body } = response;
        if ((response.status === 200 || response.status === 201) && isPlacement(body)) {
          return { kind: 'placed', placementId: body.placement_id };
        }
        // A 503 ("nothing placed, retry") or a 4xx (a refused request) means the order is not placed, even
        // by an earlier call that timed out: the partner answers a repeat with the first placement. Any
        // other answer may hide one.
        const certain = response.status === 503 || (response.status >= 400 && response.status < 500);
        return { kind: 'failed', error: describeAnswer(response.status, body), uncertain: !certain };
      } catch (error) {
        // Even a refused connection is uncertain: it says nothing of an earlier call that timed out.
        return { kind: 'failed', error: describeFailure(error, options.timeoutMs), uncertain: true };
      }
    },

    async findPlacement(orderId: string): Promise<PlacementLookup> {
      try {
        const response = await call({
          method: 'GET',
          path: `${path}/${encodeURIComponent(orderId)}`,
          headers: { accept: 'application/json' },
        });
        const { body } = response;
        if (response.status === 200 && isPlacement(body)) {
          return { kind: 'placed', placementId: body.placement_id };
        }
        if (response.status === 404) return { kind: 'not_placed' };
        return { kind: 'unavailable', error: describeAnswer(response.status, body) };
      } catch (error) {
        return { kind: 'unavailable', error: describeFailure(error, options.timeoutMs) };
      }
    },
    close: () => pool.close(),
  };
}

function isPlacement(body: unknown): body is { placement_id: string } {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { placement_id?: unknown }).placement_id === 'string' &&
    (body as { placement_id: string }).placement_id !== ''
  );
}

function describeAnswer(status: number, body: unknown): string {
  const message = (body as { message?: unknown } | undefined)?.message;
  return `partner answered ${status}${typeof message === 'string' ? `: ${message}` : ''}`;
}

/** Why a call went wrong, in one line for `last_error` and the logs. */
function describeFailure(error: unknown, timeoutMs: number): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !error.message.includes(code)
    ? `${error.message}: ${code}`
    : error.message;
}
