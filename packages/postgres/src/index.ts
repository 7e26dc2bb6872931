export { createPool, type Pool, type PoolOptions } from './pool.js';
export { ensureDatabase } from './database.js';
export { findMigrationsDir, migrate, readMigrations, type Migration } from './migrations.js';
export { createKysely, type JsonColumn } from './kysely.js';
export { isTransientDatabaseError } from './errors.js';
export { lockKeys } from './advisory-lock.js';
export { leaseRows, releaseLeasedRows, type LeasedTable } from './leases.js';
export {
  commitWith,
  createTransactionRunner,
  sendUnprepared,
  StatementAfterCommitError,
  TransactionRolledBackError,
  type Transact,
} from './pipelined-transaction.js';
