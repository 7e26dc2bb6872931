// SQLSTATE classes that say "the database is unavailable or busy right now", not "this statement is
// wrong": connection exceptions (08), insufficient resources (53), operator intervention such as a
// shutdown or crash recovery (57P), serialization failures and deadlocks (40001, 40P01), and a statement
// cancelled by statement_timeout (57014): these statements take milliseconds, so one that ran 10 s met a
// server that was stalled (a frozen process thawed, issue 22), not a statement that is wrong.
const TRANSIENT_SQLSTATE = /^(08|53|57P|57014$|40001$|40P01$)/;
const TRANSIENT_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
// pg and pg-pool raise these without a code.
const TRANSIENT_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'Client has encountered a connection error',
  // The client's own query_timeout: the server did not answer at all (it hangs).
  'Query read timeout',
];

/** True when an error means PostgreSQL is unreachable or busy for now, so the same work may succeed later. */
export function isTransientDatabaseError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (TRANSIENT_SQLSTATE.test(code) || TRANSIENT_SOCKET_CODES.has(code)))
    return true;
  return typeof message === 'string' && TRANSIENT_MESSAGES.some((text) => message.includes(text));
}
