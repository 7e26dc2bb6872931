import type { ConsoleConfig } from './config.js';

/** An order as the order API shows it (the fields the console uses). */
export interface OrderView {
  id: string;
  user_id: string;
  status: 'PENDING' | 'COMPLETED' | 'CANCELLED';
  reason: string | null;
  customer_fullname: string | null;
  total_amount: number | null;
  items: { product_code: string; quantity: number; product_name: string | null; unit_price: number | null }[];
  created_at: string;
  updated_at: string;
  trace_id: string | null;
}

/** One change of an order's history (`GET /orders/{id}/events`). */
export interface HistoryEntry {
  position: number;
  step: string;
  at: string;
  reason?: string;
  after_final?: boolean;
  data?: Record<string, unknown>;
  event_id: string | null;
}

/** What inventory decided for an order (`GET /reservations/{order_id}` on inventory). */
export interface ReservationView {
  status: string;
  items: { product_code: string; quantity: number }[];
  created_at: string;
  updated_at: string;
}

export interface PaymentView {
  status: string;
  amount: number | null;
  attempts: number;
  charge: { charge_id: string; amount: number } | null;
  refund: { refund_id: string; amount: number } | null;
  /** Every call to the gateway, oldest first. */
  history: { step: string; outcome: string; error: string | null; reference: string | null; at: string }[];
}

export interface PlacementView {
  status: string;
  attempts: number;
  placement_id: string | null;
  last_error: string | null;
  /** Every call to the partner, oldest first. */
  history: { outcome: string; error: string | null; placement_id: string | null; at: string }[];
}

export interface NotificationView {
  kind: string;
  recipient: string;
  message: string;
  created_at: string;
}

/** A query API that did not answer as expected: the page says so rather than showing half a truth. */
export class ServiceUnavailableError extends Error {
  readonly code = 'service_unavailable';
  constructor(
    readonly service: string,
    detail: string,
  ) {
    super(`${service} did not answer: ${detail}`);
    this.name = 'ServiceUnavailableError';
  }
}

/**
 * The calls the console makes to the services' query APIs, each with the caller's operator token: the
 * console owns no data and has no rights of its own beyond the operator's (SPEC §4.10).
 */
export function createServicesClient(apis: ConsoleConfig['apis'], metricsUrls: ConsoleConfig['metricsUrls']) {
  async function getJson<T>(service: keyof typeof apis, path: string, token: string): Promise<T | undefined> {
    let response: Response;
    try {
      response = await fetch(`${apis[service]}${path}`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(5_000),
      });
    } catch (error) {
      throw new ServiceUnavailableError(service, (error as Error).message);
    }
    if (response.status === 404) return undefined;
    if (!response.ok) throw new ServiceUnavailableError(service, `HTTP ${response.status}`);
    return (await response.json()) as T;
  }
  return {
    order: (id: string, token: string) =>
      getJson<OrderView>('order', `/orders/${encodeURIComponent(id)}`, token),
    history: async (id: string, token: string) =>
      (await getJson<{ events: HistoryEntry[] }>('order', `/orders/${encodeURIComponent(id)}/events`, token))
        ?.events ?? [],
    listOrders: async (query: URLSearchParams, token: string) =>
      (await getJson<{ items: OrderView[]; next_cursor: string | null }>(
        'order',
        `/orders?${query.toString()}`,
        token,
      )) ?? {
        items: [],
        next_cursor: null,
      },
    async cancel(id: string, token: string): Promise<number> {
      const response = await fetch(`${apis.order}/orders/${encodeURIComponent(id)}/cancel`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(5_000),
      });
      return response.status;
    },
    reservation: (orderId: string, token: string) =>
      getJson<ReservationView>('inventory', `/reservations/${encodeURIComponent(orderId)}`, token),
    payment: (orderId: string, token: string) =>
      getJson<PaymentView>('payment', `/payments/${encodeURIComponent(orderId)}`, token),
    placement: (orderId: string, token: string) =>
      getJson<PlacementView>('fulfilment', `/placements/${encodeURIComponent(orderId)}`, token),
    notifications: async (orderId: string, token: string) =>
      (await getJson<NotificationView[]>(
        'notification',
        `/notifications?order_id=${encodeURIComponent(orderId)}`,
        token,
      )) ?? [],
    /** A service's Prometheus text (`GET /metrics`, or its metrics URL); undefined when it does not answer. */
    async metrics(service: keyof typeof apis): Promise<string | undefined> {
      const response = await fetch(metricsUrls[service], { signal: AbortSignal.timeout(2_000) }).catch(
        () => undefined,
      );
      return response?.ok === true ? response.text() : undefined;
    },
  };
}

export type ServicesClient = ReturnType<typeof createServicesClient>;
