import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from 'typebox';
import { Identifier } from '@platform/contracts';
import type { Kysely } from 'kysely';
import type { InventoryDatabase } from '../database.js';
import { findReservationView } from './reservations.repository.js';
import { findStock, listStock } from './stock.repository.js';

const StockParams = Type.Object({ product_code: Identifier('A product code') });
const ReservationParams = Type.Object({ order_id: Identifier('An order id') });

/**
 * Read-only stock levels for operators and tests (SPEC §2), and what inventory decided for one order: the
 * console shows an order's reservation from here while the order is in flight (the order service hears of
 * it only with the event that ends the saga).
 */
export const stockRoutes: FastifyPluginAsync<{ db: Kysely<InventoryDatabase> }> = async (app, { db }) => {
  app.get('/stock', async () => listStock(db));

  app.get<{ Params: Static<typeof StockParams> }>(
    '/stock/:product_code',
    { schema: { params: StockParams } },
    async (request, reply) => {
      const level = await findStock(db, request.params.product_code);
      if (!level) return reply.code(404).send({ message: `No product ${request.params.product_code}` });
      return level;
    },
  );

  app.get<{ Params: Static<typeof ReservationParams> }>(
    '/reservations/:order_id',
    { schema: { params: ReservationParams } },
    async (request, reply) => {
      const reservation = await findReservationView(db, request.params.order_id);
      if (!reservation)
        return reply.code(404).send({ message: `No reservation for order ${request.params.order_id}` });
      return reservation;
    },
  );
};
