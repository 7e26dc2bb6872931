import type { FastifyPluginAsync } from 'fastify';
import type { SystemSampler } from './system-sampler.js';

/** `GET /`: the system at a glance, refreshing itself every 5 s. */
export const overviewRoutes: FastifyPluginAsync<{ sampler: SystemSampler }> = async (app, { sampler }) => {
  app.get('/', async (request, reply) =>
    reply.view('overview.eta', {
      user: request.user,
      csrf: reply.generateCsrf(),
      overview: await sampler.overview(),
    }),
  );
};
