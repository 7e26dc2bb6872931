import type { FastifyPluginAsync } from 'fastify';
import type { Kysely } from 'kysely';
import type { InventoryDatabase } from '../database.js';
import { findStock, listStock } from './stock.repository.js';

/** Read-only stock levels for operators and tests (SPEC §2). */
export const stockRoutes: FastifyPluginAsync<{ db: Kysely<InventoryDatabase> }> = async (app, { db }) => {
  app.get('/stock', async () => listStock(db));

  app.get<{ Params: { product_code: string } }>('/stock/:product_code', async (request, reply) => {
    const level = await findStock(db, request.params.product_code);
    if (!level) return reply.code(404).send({ message: `No product ${request.params.product_code}` });
    return level;
  });
};
