import type { FastifyRequest } from 'fastify';
import type { AdmissionControl } from './admission-control.js';

/**
 * Who a request counts against for the per-customer limits: the token's subject, or for an anonymous
 * caller (AUTH_MODE=optional) the client's address.
 */
const customerKey = (request: FastifyRequest): string =>
  request.principal ? `sub:${request.principal.subject}` : `address:${request.ip}`;

/**
 * A route's per-customer rate (SPEC §4.9), as @fastify/rate-limit's route `config.rateLimit`: `rate.max`
 * requests of one kind per customer per `rate.windowMs`, one counter per customer for each request kind,
 * shared by the `/orders` and `/api/orders` copies (`groupId`; one store, CustomerRateStore), answered
 * `429` with Retry-After (seconds) past it, and counted in `customer_limit_refusals_total`.
 */
export function customerRateLimit(
  request: 'place_order' | 'cancel_order',
  rate: { max: number; windowMs: number },
  admission: Pick<AdmissionControl, 'customerRefused'>,
) {
  return {
    max: rate.max,
    timeWindow: rate.windowMs,
    groupId: request,
    keyGenerator: customerKey,
    errorResponseBuilder: (_request: FastifyRequest, context: { after: string }) => {
      admission.customerRefused(request, 'rate');
      return {
        statusCode: 429,
        message: `Too many requests from this customer: at most ${rate.max} per ${rate.windowMs} ms; try again in ${context.after}`,
      };
    },
  };
}
