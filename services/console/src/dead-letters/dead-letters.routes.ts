import type { FastifyPluginAsync, preValidationHookHandler } from 'fastify';
import type { Connection } from 'rabbitmq-client';
import { SUBSCRIPTIONS } from '@platform/contracts';
import {
  countDeadLetters,
  discardDeadLetters,
  listArchivedLetters,
  listDeadLetters,
  replayDeadLetters,
  type LetterSelection,
} from '@platform/messaging';
import { findLetters, groupByError } from './dead-letter-groups.js';

const SERVICES = Object.keys(SUBSCRIPTIONS);

interface Selection {
  /** One letter's message id (its own "replay this one" button). */
  only?: string;
  ids?: string | string[];
  all?: string;
  confirmed?: string;
}

/** The letters a form selected: every one (`all`), or the listed message ids. */
function selectionOf(body: Selection): LetterSelection {
  if (body.only !== undefined) return [body.only];
  if (body.all === 'yes') return 'all';
  return body.ids === undefined ? [] : Array.isArray(body.ids) ? body.ids : [body.ids];
}

/** Pretty JSON of a letter's body, or the text as it is when it is not JSON. */
function pretty(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/** The letters a page of the console lists at most, per service: its reads are bounded (issue 22). */
const LETTERS_PER_PAGE = 100;

/**
 * `/dead-letters` (every service: how many letters, and the errors of the first ones), `/dead-letters/
 * {service}` (its first letters grouped by error, searchable by order or message id, and its archive),
 * replaying (one, a selection, a group, all) and discarding into the archive (with confirmation). A
 * listing reads at most LETTERS_PER_PAGE letters and moves them to the back of their queue, without
 * counting a delivery (`listDeadLetters`): the next listing shows the next ones.
 */
export const deadLettersRoutes: FastifyPluginAsync<{ connection: Connection; exchange: string }> = async (
  app,
  { connection, exchange },
) => {
  // Forms are parsed before the check: the token travels in the body (`_csrf`).
  const csrf: preValidationHookHandler = (request, reply, done) => {
    app.csrfProtection(request, reply, done);
  };
  app.get('/dead-letters', async (request, reply) => {
    const services = await Promise.all(
      SERVICES.map(async (service) => {
        const count = await countDeadLetters(connection, exchange, service);
        // The errors of the letters at the head only: a look, not a read of every letter.
        const letters =
          count === 0 ? [] : await listDeadLetters(connection, exchange, service, LETTERS_PER_PAGE);
        return { service, count, groups: groupByError(letters) };
      }),
    );
    return reply.view('dead-letters.eta', { user: request.user, csrf: reply.generateCsrf(), services });
  });

  app.get<{ Params: { service: string }; Querystring: { q?: string; archive?: string; notice?: string } }>(
    '/dead-letters/:service',
    async (request, reply) => {
      const { service } = request.params;
      if (!SERVICES.includes(service)) {
        return reply.code(404).view('not-found.eta', { user: request.user, what: `Service ${service}` });
      }
      const archive = request.query.archive === '1';
      const letters = archive
        ? await listArchivedLetters(connection, exchange, service, LETTERS_PER_PAGE)
        : await listDeadLetters(connection, exchange, service, LETTERS_PER_PAGE);
      const total = archive ? undefined : await countDeadLetters(connection, exchange, service);
      const q = request.query.q ?? '';
      return reply.view('dead-letter-service.eta', {
        user: request.user,
        csrf: reply.generateCsrf(),
        service,
        archive,
        q,
        notice: request.query.notice,
        total: total ?? letters.length,
        shown: letters.length,
        groups: groupByError(findLetters(letters, q)),
        pretty,
      });
    },
  );

  app.post<{ Params: { service: string }; Body: Selection }>(
    '/dead-letters/:service/replay',
    { preValidation: csrf },
    async (request, reply) => {
      const { service } = request.params;
      if (!SERVICES.includes(service)) return reply.code(404).send();
      const replayed = await replayDeadLetters(connection, exchange, service, selectionOf(request.body));
      return reply.redirect(`/dead-letters/${service}?notice=replayed-${replayed.length}`, 303);
    },
  );

  app.post<{ Params: { service: string }; Body: Selection }>(
    '/dead-letters/:service/discard',
    { preValidation: csrf },
    async (request, reply) => {
      const { service } = request.params;
      if (!SERVICES.includes(service)) return reply.code(404).send();
      const selection = selectionOf(request.body);
      if (request.body.confirmed !== 'yes') {
        const count = selection === 'all' ? 'every' : String(selection.length);
        return reply.view('confirm.eta', {
          user: request.user,
          csrf: reply.generateCsrf(),
          question: `Discard ${count} dead letter(s) of ${service}? They move to the archive and are never replayed.`,
          action: `/dead-letters/${service}/discard`,
          fields: selection === 'all' ? { all: 'yes' } : { ids: selection },
          back: `/dead-letters/${service}`,
        });
      }
      const discarded = await discardDeadLetters(connection, exchange, service, selection);
      return reply.redirect(`/dead-letters/${service}?notice=discarded-${discarded.length}`, 303);
    },
  );
};
