import type { FastifyPluginAsync, preValidationHookHandler } from 'fastify';
import type {
  HistoryEntry,
  PaymentView,
  PlacementView,
  ReservationView,
  ServicesClient,
} from '../services.client.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FILTERS = ['q', 'status', 'reason', 'product', 'from', 'to'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number] | 'cursor', string>>;

/** The order API's query for the console's filters (its `q` matches an id, a customer or a product). */
function apiQuery(filters: Filters): URLSearchParams {
  const query = new URLSearchParams({ limit: '25' });
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined && value.trim() !== '') query.set(name, value.trim());
  };
  set('q', filters.q);
  set('status', filters.status);
  set('reason', filters.reason);
  set('product_code', filters.product);
  // datetime-local inputs give local times without a zone: read as UTC, as the page says.
  set('created_from', filters.from && new Date(`${filters.from}Z`).toISOString());
  set('created_to', filters.to && new Date(`${filters.to}Z`).toISOString());
  set('cursor', filters.cursor);
  return query;
}

/** A step of the saga as the order page shows it: with the time since placement and since the step before. */
export interface TimelineStep extends HistoryEntry {
  sincePlacedMs: number;
  sincePreviousMs: number;
}

/** The history with durations between steps. Pure. */
export function timelineOf(history: readonly HistoryEntry[]): TimelineStep[] {
  const placed = history[0] ? Date.parse(history[0].at) : 0;
  return history.map((entry, i) => ({
    ...entry,
    sincePlacedMs: Date.parse(entry.at) - placed,
    sincePreviousMs: i === 0 ? 0 : Date.parse(entry.at) - Date.parse(history[i - 1]?.at ?? entry.at),
  }));
}

/** A step another service took that the order's history does not have yet, and the service that says so. */
export interface StepInFlight {
  step: 'stock_reserved' | 'paid' | 'fulfilment_placed';
  at: string;
  from: 'inventory' | 'payment' | 'fulfilment';
  data?: Record<string, unknown>;
}

/**
 * The steps of an order in flight that the services took and the order's history does not have yet: the
 * order service hears of them only with the event that ends the saga (SPEC §2), so until then the console
 * reads them from the services themselves (the reservation, the charge, the placement). None for an order
 * whose history already has them. Pure.
 */
export function stepsInFlight(
  history: readonly HistoryEntry[],
  services: { reservation?: ReservationView; payment?: PaymentView; placement?: PlacementView },
): StepInFlight[] {
  const recorded = new Set(history.map((entry) => entry.step));
  const steps: StepInFlight[] = [];
  const { reservation, payment, placement } = services;
  if (reservation && ['reserved', 'sold'].includes(reservation.status) && !recorded.has('stock_reserved')) {
    steps.push({ step: 'stock_reserved', at: reservation.created_at, from: 'inventory' });
  }
  const charged = payment?.history.find((call) => call.step === 'charge' && call.outcome === 'charged');
  if (payment?.charge && charged && !recorded.has('paid')) {
    steps.push({ step: 'paid', at: charged.at, from: 'payment', data: { ...payment.charge } });
  }
  const placed = placement?.history.find((call) => call.outcome === 'placed');
  if (placement?.status === 'placed' && placed && !recorded.has('fulfilment_placed')) {
    steps.push({
      step: 'fulfilment_placed',
      at: placed.at,
      from: 'fulfilment',
      data: { placement_id: placed.placement_id },
    });
  }
  return steps;
}

/** `/orders` (search), `/orders/{id}` (one order's saga) and cancelling a pending order, with confirmation. */
export const ordersRoutes: FastifyPluginAsync<{
  client: ServicesClient;
  traceUrl: string | undefined;
}> = async (app, { client, traceUrl }) => {
  // Forms are parsed before the check: the token travels in the body (`_csrf`).
  const csrf: preValidationHookHandler = (request, reply, done) => {
    app.csrfProtection(request, reply, done);
  };
  app.get<{ Querystring: Filters }>('/orders', async (request, reply) => {
    const filters = Object.fromEntries(FILTERS.map((name) => [name, request.query[name] ?? ''])) as Filters;
    const page = await client.listOrders(
      apiQuery({ ...filters, cursor: request.query.cursor }),
      request.user.token,
    );
    const next =
      page.next_cursor &&
      new URLSearchParams({ ...filters, cursor: page.next_cursor } as Record<string, string>);
    return reply.view('orders.eta', {
      user: request.user,
      csrf: reply.generateCsrf(),
      filters,
      orders: page.items,
      next: next?.toString(),
    });
  });

  app.get<{ Params: { id: string } }>('/orders/:id', async (request, reply) => {
    const { id } = request.params;
    const { token } = request.user;
    const order = UUID.test(id) ? await client.order(id, token) : undefined;
    if (!order) return reply.code(404).view('not-found.eta', { user: request.user, what: `Order ${id}` });
    const [history, reservation, payment, placement, notifications] = await Promise.all([
      client.history(id, token),
      client.reservation(id, token),
      client.payment(id, token),
      client.placement(id, token),
      client.notifications(id, token),
    ]);
    return reply.view('order.eta', {
      user: request.user,
      csrf: reply.generateCsrf(),
      order,
      timeline: timelineOf(history),
      inFlight: order.status === 'PENDING' ? stepsInFlight(history, { reservation, payment, placement }) : [],
      reservation,
      payment,
      placement,
      notifications,
      traceUrl: traceUrl && order.trace_id ? traceUrl.replace('{trace_id}', order.trace_id) : undefined,
    });
  });

  app.post<{ Params: { id: string }; Body: { confirmed?: string } }>(
    '/orders/:id/cancel',
    { preValidation: csrf },
    async (request, reply) => {
      const { id } = request.params;
      if (request.body.confirmed !== 'yes') {
        return reply.view('confirm.eta', {
          user: request.user,
          csrf: reply.generateCsrf(),
          question: `Cancel order ${id}? Its stock is released and any charge refunded.`,
          action: `/orders/${encodeURIComponent(id)}/cancel`,
          fields: {},
          back: `/orders/${encodeURIComponent(id)}`,
        });
      }
      const status = await client.cancel(id, request.user.token);
      const notice = status === 200 ? 'cancelled' : status === 409 ? 'already-final' : `failed-${status}`;
      return reply.redirect(`/orders/${encodeURIComponent(id)}?notice=${notice}`, 303);
    },
  );
};
