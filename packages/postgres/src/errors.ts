// SQLSTATE classes that say "the database is unavailable or busy right now", not "this statement is
// wrong": connection exceptions (08), insufficient resources (53), operator intervention such as a
// shutdown or crash recovery (57P), serialization failures and deadlocks (40001, 40P01).
const TRANSIENT_SQLSTATE = /^(08|53|57P|40001$|40P01$)/;
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
];

/** True when an error means PostgreSQL is unreachable or busy for now, so the same work may succeed later. */
export function isTransientDatabaseError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (TRANSIENT_SQLSTATE.test(code) || TRANSIENT_SOCKET_CODES.has(code)))
    return true;
  return typeof message === 'string' && TRANSIENT_MESSAGES.some((text) => message.includes(text));
}
