import { setTimeout as sleep } from 'node:timers/promises';

/** An order's final state as the demo reports it. */
export interface Outcome {
  status: string;
  reason: string | null;
}

/**
 * The few calls the demo makes to the running system; `tokenFor` gives a customer's bearer token (none
 * when the demo has no key to sign with: anonymous calls only).
 */
export function createOrderClient(
  urls: { order: string; inventory: string },
  timeoutMs: number,
  tokenFor: (userId: string, roles?: readonly string[]) => Promise<string | undefined>,
) {
  // The caller names the shape it expects from this system's own API.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  async function json<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
    return { status: response.status, body: (await response.json()) as T };
  }
  return {
    /** POSTs an order; resolves with its id once the API answered 201. */
    async place(body: unknown, options: { path?: string; idempotencyKey?: string } = {}): Promise<string> {
      const response = await json<{ id?: string; message?: string }>(
        `${urls.order}${options.path ?? '/orders'}`,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}),
          },
          body: JSON.stringify(body),
        },
      );
      if (response.status !== 201 || !response.body.id) {
        throw new Error(`POST answered ${response.status}: ${response.body.message ?? ''}`);
      }
      return response.body.id;
    },
    /** Cancels the order as its customer would, with their token. */
    async cancel(id: string, userId: string): Promise<number> {
      const token = await tokenFor(userId);
      const response = await fetch(`${urls.order}/orders/${id}/cancel`, {
        method: 'POST',
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(10_000),
      });
      return response.status;
    },
    /** Polls the order until it is COMPLETED or CANCELLED (or the demo's timeout passes). */
    async final(id: string): Promise<Outcome> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { body } = await json<Outcome>(`${urls.order}/orders/${id}`);
        if (body.status !== 'PENDING' || Date.now() > deadline)
          return { status: body.status, reason: body.reason };
        await sleep(200);
      }
    },
    async available(productCode: string): Promise<number> {
      // The query APIs are operators' (SPEC §4.10).
      const token = await tokenFor('demo', ['operator']);
      const { body } = await json<{ available: number }>(`${urls.inventory}/stock/${productCode}`, {
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      });
      return body.available;
    },
  };
}

export type OrderClient = ReturnType<typeof createOrderClient>;
