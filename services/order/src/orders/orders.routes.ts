import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { securityOf, type AuthMode, type Principal } from '@platform/auth';
import type { Kysely } from 'kysely';
import type { Transact } from '@platform/service-host';
import type { OrderDatabase } from '../database.js';
import { cancelOrder } from './cancel-order.js';
import { listOrders } from './list-orders.js';
import type { OrderIntake } from './order-intake.js';
import { findHistories, placedTimeline } from './order-history.repository.js';
import { findOrderById, withTimeline, withTimelines } from './orders.repository.js';
import {
  ErrorBody,
  IdempotencyHeaders,
  ListOrdersQuery,
  OrderIdParams,
  OrderPage,
  OrderHistoryView,
  OrderView,
  ValidationErrorBody,
  toHistoryEntryView,
  toOrderView,
} from './orders.schemas.js';
import { PlaceOrderBody, placeOrderValidatorCompiler, toPlaceOrderCommand } from './place-order.body.js';
import { placeOrder } from './place-order.js';
import type { AdmissionControl } from './admission-control.js';
import { customerRateLimit } from './customer-rate-limit.js';
import type { OrderMetrics } from './order.metrics.js';
import { isOrderId } from './order.js';

/** What the order routes need. */
export interface OrdersRoutesOptions {
  db: Kysely<OrderDatabase>;
  transact: Transact<OrderDatabase>;
  intake: OrderIntake;
  admission: AdmissionControl;
  /** Where a customer's cancellation is counted once committed. */
  metrics?: OrderMetrics;
  /** Leaves the routes out of the OpenAPI document (for a second copy under another prefix). */
  hideFromDocs?: boolean;
  /** The authentication mode, for the OpenAPI document's `security` of each route. */
  authMode: AuthMode;
  /**
   * Each customer's rate of placements, and of cancellations (SPEC §4.9), in requests per `windowMs`;
   * undefined: none. Needs @fastify/rate-limit registered (with `global: false`) around these routes.
   */
  customerRate: { max: number; windowMs: number } | undefined;
}

/** The answer to an order refused because the system is at its bound of work in flight (SPEC §4.9). */
const OVERLOADED = {
  message: 'The system is at its limit of orders in flight: nothing was stored, try again shortly',
};

/** The message of a failure of `POST /orders` that is ours, not the client's (seed 001). */
const PLACE_ORDER_FAILED = 'Internal server error while placing the order';

const notFound = { message: 'Order not found' };

/**
 * Whether the caller may see or act on an order (SPEC §4.10): an operator any, a customer their own, an
 * anonymous caller (where the route allows one) any whose id they know (ids are random UUIDs). Someone
 * else's order is answered `404`, as if it did not exist: its existence is not leaked.
 */
const mayAccess = (principal: Principal | null, order: { user_id: string }): boolean =>
  principal === null || principal.operator || order.user_id === principal.subject;

export const ordersRoutes: FastifyPluginAsyncTypebox<OrdersRoutesOptions> = async (
  app,
  { db, transact, intake, admission, metrics, hideFromDocs, authMode, customerRate },
) => {
  const tags = ['orders'];
  const hide = hideFromDocs ?? false;
  const rateLimitOf = (request: 'place_order' | 'cancel_order') =>
    customerRate && customerRateLimit(request, customerRate, admission);

  app.post(
    '/',
    {
      schema: {
        hide,
        tags,
        summary: 'Place an order',
        description:
          'Stores the order as PENDING with its first event; answers before any third party is asked.',
        security: securityOf('anonymous', authMode),
        headers: IdempotencyHeaders,
        body: PlaceOrderBody,
        response: {
          201: OrderView,
          401: ErrorBody,
          403: ErrorBody,
          415: ErrorBody,
          413: ErrorBody,
          422: ValidationErrorBody,
          429: ErrorBody,
          500: ErrorBody,
          503: ErrorBody,
        },
      },
      validatorCompiler: placeOrderValidatorCompiler,
      config: {
        internalErrorMessage: PLACE_ORDER_FAILED,
        access: 'anonymous',
        ...(customerRate && { rateLimit: rateLimitOf('place_order') }),
      },
      // Refused before the body is even read: under overload, saying no must cost next to nothing.
      onRequest: async (_request, reply) => {
        const refusal = admission.refusal();
        if (refusal === undefined) return;
        admission.refused(refusal);
        return reply.code(503).header('retry-after', String(admission.retryAfterS)).send(OVERLOADED);
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'] ?? null;
      const command = toPlaceOrderCommand(request.body);
      const { principal } = request;
      if (principal && !principal.operator && command.userId !== principal.subject) {
        return reply.code(403).send({
          message:
            "A customer places orders for themselves: user_id (or customer_id) must be the token's sub",
        });
      }
      if (!admission.admitCustomer(command.userId)) {
        admission.customerRefused('place_order', 'in_flight');
        return reply.code(429).header('retry-after', String(admission.retryAfterS)).send({
          message:
            'This customer has as many orders in flight as one customer may: nothing was stored, try again once some are final',
        });
      }
      const outcome = await placeOrder(intake, command, key);
      if (outcome.kind === 'overloaded') {
        admission.refused('intake_queue');
        return reply.code(503).header('retry-after', String(admission.retryAfterS)).send(OVERLOADED);
      }
      if (outcome.kind === 'idempotency_key_reused') {
        return reply.code(422).send({
          message: 'Idempotency-Key was already used with a different request',
          errors: [
            { path: 'headers/idempotency-key', message: 'already used with a different request body' },
          ],
        });
      }
      request.log.debug(
        { order_id: outcome.order.id, replayed: outcome.kind === 'replayed' },
        'order placed',
      );
      if (outcome.kind === 'replayed') reply.header('idempotent-replayed', 'true');
      const view =
        outcome.kind === 'placed'
          ? { order: outcome.order, timeline: placedTimeline(outcome.order) }
          : await withTimeline(db, outcome.order);
      return reply
        .code(201)
        .header(
          'location',
          `${request.routeOptions.url?.replace(/\/$/, '') ?? '/orders'}/${outcome.order.id}`,
        )
        .send(toOrderView(view));
    },
  );

  app.get(
    '/:id',
    {
      schema: {
        hide,
        tags,
        summary: 'Get an order',
        security: securityOf('anonymous', authMode),
        params: OrderIdParams,
        response: { 200: OrderView, 401: ErrorBody, 404: ErrorBody },
      },
      config: { access: 'anonymous' },
    },
    async (request, reply) => {
      const order = isOrderId(request.params.id) ? await findOrderById(db, request.params.id) : undefined;
      if (!order || !mayAccess(request.principal, order)) return reply.code(404).send(notFound);
      return toOrderView(await withTimeline(db, order));
    },
  );

  app.get(
    '/:id/events',
    {
      schema: {
        hide,
        tags,
        summary: "An order's history",
        description:
          'Every change of the order, oldest first: appended in the transaction that made it, never changed. ' +
          'The order is what folding these gives.',
        security: securityOf('customer', authMode),
        params: OrderIdParams,
        response: { 200: OrderHistoryView, 401: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const order = isOrderId(id) ? await findOrderById(db, id) : undefined;
      const history = order && mayAccess(request.principal, order) && (await findHistories(db, [id])).get(id);
      if (!history) return reply.code(404).send(notFound);
      return { order_id: id, events: history.map(toHistoryEntryView) };
    },
  );

  app.get(
    '/',
    {
      schema: {
        hide,
        tags,
        summary: 'List orders, newest first',
        description:
          "A customer lists their own orders (user_id defaults to the token's sub); an operator anyone's.",
        security: securityOf('customer', authMode),
        querystring: ListOrdersQuery,
        response: { 200: OrderPage, 401: ErrorBody, 403: ErrorBody, 422: ValidationErrorBody },
      },
    },
    async (request, reply) => {
      const { status, limit, cursor, reason, q, product_code: productCode } = request.query;
      const { principal } = request;
      let userId = request.query.user_id;
      if (principal && !principal.operator) {
        if (userId !== undefined && userId !== principal.subject) {
          return reply
            .code(403)
            .send({ message: "A customer lists only their own orders: user_id must be the token's sub" });
        }
        userId = principal.subject;
      }
      const outcome = await listOrders(db, {
        userId,
        status,
        reason,
        productCode,
        text: q,
        createdFrom:
          request.query.created_from === undefined ? undefined : new Date(request.query.created_from),
        createdTo: request.query.created_to === undefined ? undefined : new Date(request.query.created_to),
        limit,
        cursor,
      });
      if (outcome.kind === 'bad_cursor') {
        return reply.code(422).send({
          message: 'Invalid query',
          errors: [{ path: 'querystring/cursor', message: 'not a cursor this API returned' }],
        });
      }
      const views = await withTimelines(db, outcome.orders);
      return { items: views.map(toOrderView), next_cursor: outcome.nextCursor };
    },
  );

  app.post(
    '/:id/cancel',
    {
      schema: {
        hide,
        tags,
        summary: 'Cancel a pending order',
        security: securityOf('customer', authMode),
        params: OrderIdParams,
        response: { 200: OrderView, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody, 429: ErrorBody },
      },
      ...(customerRate && { config: { rateLimit: rateLimitOf('cancel_order') } }),
    },
    async (request, reply) => {
      const owned = isOrderId(request.params.id) ? await findOrderById(db, request.params.id) : undefined;
      // The owner of an order never changes: checked before the cancellation's transaction.
      if (!owned || !mayAccess(request.principal, owned)) return reply.code(404).send(notFound);
      const outcome = await cancelOrder(transact, request.params.id, metrics, owned.trace_context);
      switch (outcome.kind) {
        case 'not_found':
          return reply.code(404).send(notFound);
        case 'already_final':
          return reply.code(409).send({ message: `Order is already ${outcome.order.status}` });
        case 'cancelled':
          request.log.info({ order_id: outcome.order.id, reason: 'customer_request' }, 'order cancelled');
          // Read back: the view shows the times the database stamped.
          return toOrderView(
            await withTimeline(db, (await findOrderById(db, outcome.order.id)) ?? outcome.order),
          );
      }
    },
  );
};
