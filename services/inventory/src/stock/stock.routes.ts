import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from 'typebox';
import { Identifier } from '@platform/contracts';
import type { Kysely } from 'kysely';
import type { InventoryDatabase } from '../database.js';
import { findStock, listStock } from './stock.repository.js';

const StockParams = Type.Object({ product_code: Identifier('A product code') });

/** Read-only stock levels for operators and tests (SPEC §2). */
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
};
