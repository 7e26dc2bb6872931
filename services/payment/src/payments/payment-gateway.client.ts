import { Type, type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { Pool } from 'undici';

const GatewayCharge = Type.Object({ charge_id: Type.String({ minLength: 1 }), amount: Type.Number() });
const GatewayRefund = Type.Object({ refund_id: Type.String({ minLength: 1 }), amount: Type.Number() });
const OrderPayments = Type.Object({ charge: Type.Union([GatewayCharge, Type.Null()]) });

/** The gateway's reference for an order's charge. */
export type GatewayCharge = Static<typeof GatewayCharge>;
/** The gateway's reference for an order's refund. */
export type GatewayRefund = Static<typeof GatewayRefund>;

/**
 * How a charge or refund call went. A failure is `uncertain` when the gateway may have acted all the same
 * (no answer at all, an unexpected 5xx, a success we cannot read): only a look at its record settles it.
 * Only the gateway's own refusal (503, a 4xx) is certain.
 */
type GatewayResult<T> = { ok: true; value: T } | { ok: false; error: string; uncertain: boolean };

/** What the gateway records for an order, or no usable answer this time. */
type ChargeLookup =
  | { kind: 'charged'; charge: GatewayCharge }
  | { kind: 'not_charged' }
  | { kind: 'unavailable'; error: string };

/** The payment gateway as the use cases see it (seed 003: replaceable without touching them). */
export interface PaymentGateway {
  /** Charges the order; idempotent per order, so a repeat returns the first charge. */
  charge(orderId: string, amount: number): Promise<GatewayResult<GatewayCharge>>;
  /** Refunds the order's charge; idempotent per order. */
  refund(orderId: string, amount: number): Promise<GatewayResult<GatewayRefund>>;
  findCharge(orderId: string): Promise<ChargeLookup>;
  /** Closes the kept-alive connections. */
  close(): Promise<void>;
}

/** The gateway's HTTP answer, or the transport error that kept us from getting one. */
type Answer = { status: number; body: unknown } | { error: string };

/**
 * The gateway over HTTP (SPEC §6), on a pool of kept-alive connections (undici's `Pool`: a tenth of the
 * CPU of `fetch` per call, which builds web streams and Request/Response objects). Every call is bounded by
 * `timeoutMs`, body included; failures are values, never thrown.
 */
export function createPaymentGatewayClient(options: {
  baseUrl: string;
  timeoutMs: number;
  /** Connections kept to the gateway at most: the worker's concurrency. */
  connections: number;
}): PaymentGateway {
  const pool = new Pool(new URL(options.baseUrl).origin, { connections: options.connections });
  const basePath = new URL(options.baseUrl).pathname.replace(/\/+$/, '');

  async function send(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
    try {
      // undici's own headers and body timeouts tick once a second: too coarse for a limit of a few ms.
      const response = await pool.request({
        method,
        path: `${basePath}${path}`,
        signal: AbortSignal.timeout(options.timeoutMs),
        ...(body === undefined
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      const text = await response.body.text();
      return { status: response.statusCode, body: parseJson(text) };
    } catch (error) {
      return { error: describeError(error) };
    }
  }

  async function post<T extends TSchema>(path: string, schema: T, body: unknown) {
    const answer = await send('POST', path, body);
    return toResult(answer, schema);
  }

  return {
    charge: (orderId, amount) => post('/charges', GatewayCharge, { order_id: orderId, amount }),
    refund: (orderId, amount) => post('/refunds', GatewayRefund, { order_id: orderId, amount }),
    async findCharge(orderId) {
      const answer = await send('GET', `/charges/${encodeURIComponent(orderId)}`);
      if ('error' in answer) return { kind: 'unavailable', error: answer.error };
      if (answer.status === 404) return { kind: 'not_charged' };
      if (answer.status !== 200 || !Value.Check(OrderPayments, answer.body)) {
        return { kind: 'unavailable', error: describeAnswer(answer) };
      }
      const { charge } = answer.body;
      return charge ? { kind: 'charged', charge } : { kind: 'not_charged' };
    },
    close: () => pool.close(),
  };
}

function toResult<T extends TSchema>(answer: Answer, schema: T): GatewayResult<Static<T>> {
  // Any transport error is uncertain, even a refused connection: it says nothing of an earlier call that
  // timed out after reaching the gateway, and a last attempt refused must not fail a charge that one made.
  if ('error' in answer) return { ok: false, error: answer.error, uncertain: true };
  const { status, body } = answer;
  if (status >= 200 && status < 300 && Value.Check(schema, body)) return { ok: true, value: body };
  // 503 is the gateway's "nothing done, retry" and a 4xx refuses the request; a success without a usable
  // body, or another 5xx, may hide an effect.
  const certain = status === 503 || (status >= 400 && status < 500);
  return { ok: false, error: describeAnswer(answer), uncertain: !certain };
}

function describeAnswer(answer: { status: number; body: unknown }): string {
  const message = (answer.body as { message?: unknown } | null)?.message;
  return `gateway answered ${answer.status}${typeof message === 'string' ? `: ${message}` : ''}`;
}

function describeError(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'gateway call timed out';
  return `gateway unreachable: ${error instanceof Error ? error.message : String(error)}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
