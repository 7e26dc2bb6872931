import { createHash } from 'node:crypto';
import pg from 'pg';

/** A pg connection pool. */
export type Pool = pg.Pool;

/** Server-side limit per statement, so a stuck query cannot hold a connection forever. */
const STATEMENT_TIMEOUT_MS = 10_000;

/** Options of a service's connection pool. */
export interface PoolOptions {
  connectionString: string;
  max: number;
  applicationName: string;
  onError?: (error: Error) => void;
}

// Type parsers of this pool's own (pg's global ones are process-wide): numeric as a JS number, since
// amounts here are money with two decimals, well inside a double's exact range.
const types = new pg.TypeOverrides();
types.setTypeParser(pg.types.builtins.NUMERIC, Number);

/**
 * Distinct statement texts a pool prepares at most; past it, statements go unnamed (parsed each time), so a
 * caller that builds ever-new texts cannot grow every session's statement cache without bound.
 */
const MAX_PREPARED_STATEMENTS = 500;

/**
 * Makes every parameterised query of a client a named prepared statement, keyed by a hash of its text:
 * PostgreSQL parses and plans it once per session, and later executions send only the parameters.
 * Kysely passes plain text to `pg`, which would otherwise parse and plan each execution anew: parsing,
 * analysing and planning were a third of PostgreSQL's CPU per statement before batching (issue 9), and
 * the batches' statements keep one text whatever their size (arrays, not lists of parameters).
 */
function prepareStatements(client: pg.PoolClient, names: Map<string, string>): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const prepared = (...args: unknown[]): unknown => {
    // (text, values) from Kysely, (text, values, callback) from pg's own Pool.query; anything else as is.
    const [text, values, callback] = args;
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || args.length > 3) {
      return query(...args);
    }
    let name = names.get(text);
    if (name === undefined) {
      if (names.size >= MAX_PREPARED_STATEMENTS) return query(...args);
      name = `s_${createHash('sha1').update(text).digest('base64url')}`;
      names.set(text, name);
    }
    return callback === undefined ? query({ name, text, values }) : query({ name, text, values }, callback);
  };
  Object.assign(client, { query: prepared });
}

/** A pg pool tuned for short transactional queries, its clients in pipeline mode. */
export function createPool(options: PoolOptions): Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max,
    application_name: options.applicationName,
    // JIT compilation costs far more than it saves on these short queries (SPEC §9). The server also
    // ends a session left idle inside a transaction, so a vanished client cannot hold locks for long.
    options: `-c jit=off -c statement_timeout=${STATEMENT_TIMEOUT_MS} -c idle_in_transaction_session_timeout=60000`,
    // A server that vanishes without closing the socket (host down, partition) would otherwise leave a
    // query waiting for hours: the client gives up a little after the server-side limit would have.
    query_timeout: STATEMENT_TIMEOUT_MS + 5_000,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    // Queries are sent without waiting for the answer to the one before, so that a transaction's burst of
    // statements costs one round trip (see createTransactionRunner); answers still come back in sequence, and
    // a client used one query at a time behaves as before.
    pipeline: true,
    types,
  });
  // A client whose server goes away emits 'error': on the pool while idle, on the client itself while
  // checked out (pg-pool detaches its own listener then). Unhandled, either kills the process; the query
  // in flight has already failed with the same error, and the pool discards the broken client on release.
  const report = (error: Error): void => options.onError?.(error);
  const statementNames = new Map<string, string>();
  pool.on('error', report);
  pool.on('connect', (client) => {
    client.on('error', report);
    prepareStatements(client, statementNames);
  });
  return pool;
}
