import type { FastifyPluginAsync } from 'fastify';
import type { Kysely } from 'kysely';
import type { FulfilmentDatabase } from '../database.js';
import { findPlacementView } from './placements.repository.js';

/** Read-only placements for operators and tests (SPEC §2). */
export const placementsRoutes: FastifyPluginAsync<{ db: Kysely<FulfilmentDatabase> }> = async (
  app,
  { db },
) => {
  app.get<{ Params: { order_id: string } }>('/placements/:order_id', async (request, reply) => {
    const placement = await findPlacementView(db, request.params.order_id);
    if (!placement)
      return reply.code(404).send({ message: `No placement for order ${request.params.order_id}` });
    return placement;
  });
};
