import { randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import {
  delay,
  HttpError,
  readBody,
  sendJson,
  startHttpSimulator,
  type ListenOptions,
  type RunningSimulator,
} from './http.js';
import { seedProfile, type FulfilmentBehaviour } from './profile.js';

/** Body of `POST /placements`; items may carry more fields (names, prices), which are kept as sent. */
const PlacementRequest = Type.Object({
  order_id: Type.String({ minLength: 1 }),
  items: Type.Array(
    Type.Object({ product_code: Type.String({ minLength: 1 }), quantity: Type.Integer({ minimum: 1 }) }),
    { minItems: 1 },
  ),
});

/** An order placed at the partner; answered again, unchanged, for every repeat of the order's placement. */
export interface Placement {
  placement_id: string;
  order_id: string;
  items: unknown[];
  placed_at: string;
}

/** Where the partner listens, how reliable it is (the seed's 10% failures by default) and its source of chance. */
export interface FulfilmentPartnerOptions extends ListenOptions {
  behaviour?: FulfilmentBehaviour;
  /** Uniform in [0, 1); inject a fixed sequence to make the 10% deterministic in tests. */
  random?: () => number;
}

/** Seed 001's `place_order` failure, word for word. */
export const PLACEMENT_FAILURE_MESSAGE = 'Failed to place order at stock exchange. Connection not available';

/** Starts the fulfilment partner: seed 001's unreliable `place_order` as `POST /placements`, idempotent per order. */
export function startFulfilmentPartner(options: FulfilmentPartnerOptions = {}): Promise<RunningSimulator> {
  const { failureRate, delayMs } = options.behaviour ?? seedProfile.fulfilment;
  const random = options.random ?? Math.random;
  const placements = new Map<string, Placement>();

  return startHttpSimulator(
    'fulfilment',
    [
      {
        method: 'POST',
        path: '/placements',
        handle: async ({ req, res, signal }) => {
          const { order_id, items } = await readBody(req, PlacementRequest);
          const existing = placements.get(order_id);
          if (existing) {
            sendJson(res, 200, existing);
            return;
          }
          // Seed 001: the failure comes at once; only a successful placement takes its time.
          if (random() < failureRate) throw new HttpError(503, PLACEMENT_FAILURE_MESSAGE);
          // Recorded on arrival, like the gateway's charges: a client that gives up still placed the order.
          const placement = {
            placement_id: `pl_${randomUUID()}`,
            order_id,
            items,
            placed_at: new Date().toISOString(),
          };
          placements.set(order_id, placement);
          await delay(delayMs, signal);
          sendJson(res, 201, placement);
        },
      },
      {
        method: 'GET',
        path: '/placements/:order_id',
        handle: async ({ res, param: orderId }) => {
          const placement = placements.get(orderId);
          if (!placement) throw new HttpError(404, `Order ${orderId} was never placed`);
          sendJson(res, 200, placement);
        },
      },
    ],
    options,
  );
}
