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

/** A pg pool tuned for short transactional queries. */
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
    types,
  });
  // A client whose server goes away emits 'error': on the pool while idle, on the client itself while
  // checked out (pg-pool detaches its own listener then). Unhandled, either kills the process; the query
  // in flight has already failed with the same error, and the pool discards the broken client on release.
  const report = (error: Error): void => options.onError?.(error);
  pool.on('error', report);
  pool.on('connect', (client) => client.on('error', report));
  return pool;
}
