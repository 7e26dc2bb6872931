import {
  DefaultQueryExecutor,
  PostgresAdapter,
  PostgresDialect,
  PostgresQueryCompiler,
  Transaction,
  type CompiledQuery,
  type DatabaseConnection,
  type QueryResult,
} from 'kysely';
import pg from 'pg';

const { DatabaseError } = pg;
import type { Pool } from './pool.js';

/*
 * Why transactions are pipelined (issue 21). On the virtual machines this project runs on, a process that
 * wakes up to read an answer costs 50 µs of CPU (a C program) to 200 µs (Node) before it does anything,
 * and a round trip to PostgreSQL wakes two processes. A saga event used to cost ten round trips (BEGIN, the
 * inbox claim, a lock, two reads, three writes, the outbox, COMMIT): at ten sagas a second that was most
 * of the system's CPU. Here every statement a transaction sends before it needs an answer leaves in one
 * socket write (node-postgres' pipeline mode sends queries without waiting for the one before; the socket
 * is corked until the current burst of work has issued its statements), so a transaction is two round
 * trips: BEGIN with the locks and reads, then the writes with COMMIT (`commitWith`).
 */

/** Thrown by a statement issued after its transaction sent COMMIT (or ROLLBACK): it was not sent. */
export class StatementAfterCommitError extends Error {
  readonly code = 'STATEMENT_AFTER_COMMIT';
  constructor(readonly statement: string) {
    super(
      `a statement was issued after its transaction's COMMIT and was not sent (${statement.slice(0, 80)}): ` +
        'a write given to commitWith must send all its statements at once, without awaiting one before the next',
    );
    this.name = 'StatementAfterCommitError';
  }
}

/** Thrown when PostgreSQL answered COMMIT with ROLLBACK without any statement having said why. */
export class TransactionRolledBackError extends Error {
  readonly code = 'TRANSACTION_ROLLED_BACK';
  constructor() {
    super('the transaction was rolled back at COMMIT');
    this.name = 'TransactionRolledBackError';
  }
}

/** Runs `work` in a transaction of the pool's database; see `createTransactionRunner`. */
export type Transact<Database> = <T>(work: (trx: Transaction<Database>) => Promise<T>) => Promise<T>;

/** What a transaction is still to wait for at commit: the writes given to `commitWith`. */
const pendingWrites = new WeakMap<object, Promise<unknown>[]>();

/**
 * Sends `writes` with the transaction's COMMIT instead of waiting for each: the caller issues its last
 * statements (they leave together with COMMIT, in one round trip) and returns; the transaction waits for
 * them after sending COMMIT, and fails, nothing of it committed, if any of them failed (PostgreSQL then
 * answers COMMIT with ROLLBACK). Each write must send all its statements at once (one statement, or
 * several issued without awaiting in between): a statement issued after COMMIT is not sent
 * (`StatementAfterCommitError`), and the transaction fails with it.
 * @throws Error when `trx` is not a transaction opened by a `createTransactionRunner` runner
 */
export function commitWith(trx: object, ...writes: Promise<unknown>[]): void {
  const pending = pendingWrites.get(trx);
  if (!pending) throw new Error('commitWith needs a transaction opened by createTransactionRunner');
  for (const write of writes) {
    // Handled here so that a failure is never an unhandled rejection; the runner reports it.
    write.catch(() => undefined);
    pending.push(write);
  }
}

/** Each open transaction's connection, for `sendUnprepared`. */
const connections = new WeakMap<object, PipelinedConnection>();

/**
 * Sends a statement in `trx` as an unnamed statement, planned on each execution rather than prepared once
 * per session (which `createPool` does to every parameterised statement): for a table whose size swings
 * from empty to thousands of rows within seconds, where a plan cached while it was empty would scan it
 * whole ever after (the outbox). Pipelined like every other statement of the transaction.
 * @throws Error when `trx` is not a transaction opened by a `createTransactionRunner` runner
 */
export function sendUnprepared(trx: object, text: string, values: unknown[]): Promise<pg.QueryResult> {
  const connection = connections.get(trx);
  if (!connection) throw new Error('sendUnprepared needs a transaction opened by createTransactionRunner');
  return connection.send({ text, values });
}

/** node-postgres' client keeps its socket here; corking it lets a burst of queries leave in one write. */
interface ClientSocket {
  connection: { stream: { cork(): void; uncork(): void } };
}

/** A transaction's connection: queries go out at once (pipelined), a burst of them in one write. */
class PipelinedConnection implements DatabaseConnection {
  closing = false;
  #corked = false;
  readonly #client: pg.PoolClient;

  constructor(client: pg.PoolClient) {
    this.#client = client;
  }

  /**
   * Sends a statement now (its answer comes later): corks the socket until the current burst ends. Text
   * with values becomes a prepared statement (createPool); a query object is sent unnamed.
   */
  send(statement: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult> {
    if (this.closing) {
      return Promise.reject(
        new StatementAfterCommitError(typeof statement === 'string' ? statement : statement.text),
      );
    }
    if (!this.#corked) {
      const stream = (this.#client as unknown as ClientSocket).connection.stream;
      stream.cork();
      this.#corked = true;
      // At the end of this turn of the event loop, once every promise continuation and the runner's
      // COMMIT (a tick) have run: the statements issued meanwhile leave together.
      setImmediate(() => {
        this.#corked = false;
        stream.uncork();
      });
    }
    if (typeof statement !== 'string') return this.#client.query(statement);
    return values === undefined ? this.#client.query(statement) : this.#client.query(statement, values);
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const { command, rowCount, rows } = await this.send(compiled.sql, [...compiled.parameters]);
    return {
      numAffectedRows:
        command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE'
          ? BigInt(rowCount ?? 0)
          : undefined,
      rows: rows as R[],
    };
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('a pipelined transaction does not stream');
  }
}

/**
 * A runner of pipelined transactions on `pool` (whose clients must be in pipeline mode: `createPool` makes
 * them so). `transact(work)` takes a client, sends BEGIN without waiting for it, and gives `work` a Kysely
 * transaction whose statements are sent as soon as they are built: the statements `work` issues before
 * awaiting anything leave together with BEGIN, and those it gives `commitWith` leave together with COMMIT.
 * A statement that fails makes PostgreSQL refuse the rest of the transaction and answer COMMIT with
 * ROLLBACK: `transact` rejects with that statement's error (the first one), and nothing was committed. A
 * transaction whose work throws is rolled back.
 * @throws whatever `work` throws, the first failed statement's error, `TransactionRolledBackError`, or the
 *   connection's error (the client is then discarded, not returned to the pool)
 */
export function createTransactionRunner<Database>(pool: Pool): Transact<Database> {
  // Kysely's own parts for PostgreSQL; only the connection is ours. The dialect's driver is never asked
  // for a connection (the executor below is given ours).
  const dialect = new PostgresDialect({ pool });
  const compiler = new PostgresQueryCompiler();
  const adapter = new PostgresAdapter();
  const driver = dialect.createDriver();

  return async <T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    const connection = new PipelinedConnection(client);
    const executor = new DefaultQueryExecutor(
      compiler,
      adapter,
      { provideConnection: (use) => use(connection) },
      [],
    );
    const trx = new Transaction<Database>({ config: { dialect }, driver, dialect, executor });
    const writes: Promise<unknown>[] = [];
    pendingWrites.set(trx, writes);
    connections.set(trx, connection);
    const begin = connection.send('BEGIN');
    begin.catch(() => undefined);

    let result: T;
    try {
      result = await work(trx);
      // Kysely builds and sends a statement through several promise continuations: the writes just given
      // to commitWith are on the wire (corked) only once those have all run, which a tick waits for.
      await new Promise<void>((resolve) => process.nextTick(resolve));
    } catch (error) {
      connection.closing = true;
      // Sent behind whatever the work had issued; every answer is awaited before the client goes back.
      const rollback = client.query('ROLLBACK');
      const settled = await Promise.allSettled([begin, ...writes, rollback]);
      release(client, settled.at(-1));
      throw error;
    }
    connection.closing = true;
    const commit = client.query('COMMIT');
    const settled = await Promise.allSettled([begin, ...writes, commit]);
    release(client, settled.at(-1));
    const failure = settled.find(
      (outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected',
    );
    if (failure) throw failure.reason;
    const committed = settled.at(-1) as PromiseFulfilledResult<pg.QueryResult>;
    if (committed.value.command !== 'COMMIT') throw new TransactionRolledBackError();
    return result;
  };
}

/**
 * Returns the client to the pool once its COMMIT or ROLLBACK was answered, or discards it when that ended
 * in anything but PostgreSQL's answer (a dead socket, a timeout), so that the next transaction does not
 * inherit a broken connection.
 */
function release(client: pg.PoolClient, end: PromiseSettledResult<unknown> | undefined): void {
  const answered = end?.status === 'fulfilled' || end?.reason instanceof DatabaseError;
  client.release(answered ? undefined : true);
}
