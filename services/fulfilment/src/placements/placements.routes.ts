import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from 'typebox';
import { Identifier } from '@platform/contracts';
import type { Kysely } from 'kysely';
import type { FulfilmentDatabase } from '../database.js';
import { findAttempts, findPlacementView } from './placements.repository.js';

const PlacementParams = Type.Object({ order_id: Identifier('The order the placement is for') });

/** Read-only placements for operators and tests (SPEC §2). */
export const placementsRoutes: FastifyPluginAsync<{ db: Kysely<FulfilmentDatabase> }> = async (
  app,
  { db },
) => {
  app.get<{ Params: Static<typeof PlacementParams> }>(
    '/placements/:order_id',
    { schema: { params: PlacementParams } },
    async (request, reply) => {
      const placement = await findPlacementView(db, request.params.order_id);
      if (!placement)
        return reply.code(404).send({ message: `No placement for order ${request.params.order_id}` });
      return { ...placement, history: await findAttempts(db, request.params.order_id) };
    },
  );
};
