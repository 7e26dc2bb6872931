/**
 * The databases and the exchange of one system under test, named after its id (`bench_<id>_<database>`,
 * `bench.<id>`): several systems share one PostgreSQL server and one broker without meeting, and a
 * system's own are found again to vacuum, to count their commits and to remove them.
 */
import pg from 'pg';
import { Connection } from 'rabbitmq-client';
import { SUBSCRIPTIONS } from '@platform/contracts';
import { deleteTopology } from '@platform/messaging';
import { DATABASE_NAMES, SERVICE_NAMES as SERVICES, type ServiceName } from '../isolated-system.js';
import type { BenchConfig } from './config.js';
import { withAdminDatabase, withDatabase } from './database-session.js';

/** The databases and exchange of one system under test. */
export interface SystemStorage {
  /** The exchange its services publish to. */
  readonly exchange: string;
  /** The URL of `service`'s database (a plain function: isolatedSystemEnv takes it as it is). */
  readonly databaseUrl: (service: ServiceName) => string;
  /** Autovacuum is off on this project's machines (a CI setting): each step starts from vacuumed tables. */
  vacuumAll(): Promise<void>;
  /** Transactions committed so far in each of the system's databases (pg_stat_database). */
  commitsByDatabase(): Promise<Record<string, number>>;
  /** Drops every database, then removes the exchange and its queues; says what failed, never throws. */
  remove(): Promise<void>;
}

/** The storage of the system with id `id` (nothing is created: its supervisor's services do that). */
export function systemStorage(id: string, config: BenchConfig, say: (line: string) => void): SystemStorage {
  const exchange = `bench.${id}`;
  const databaseUrl = (service: ServiceName) => {
    const url = new URL(config.postgresUrl);
    url.pathname = `/bench_${id}_${DATABASE_NAMES[service]}`;
    return url.toString();
  };

  return {
    exchange,
    databaseUrl,
    async vacuumAll() {
      for (const service of SERVICES) {
        await withDatabase(databaseUrl(service), (client) => client.query('VACUUM (ANALYZE)'));
      }
    },
    commitsByDatabase() {
      return withAdminDatabase(config.postgresUrl, async (client) => {
        const rows = (
          await client.query<{ datname: string; commits: string }>(
            `SELECT datname, xact_commit AS commits FROM pg_stat_database WHERE datname LIKE $1`,
            [`bench_${id}_%`],
          )
        ).rows;
        return Object.fromEntries(
          rows.map((row) => [row.datname.replace(`bench_${id}_`, ''), Number(row.commits)]),
        );
      });
    },
    async remove() {
      for (const service of SERVICES) {
        const name = new URL(databaseUrl(service)).pathname.slice(1);
        await withAdminDatabase(config.postgresUrl, (client) =>
          client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`),
        ).catch((error: unknown) => say(`could not drop ${name}: ${String(error)}`));
      }
      const connection = new Connection({ url: config.rabbitmqUrl });
      try {
        await deleteTopology(connection, exchange, SUBSCRIPTIONS, config.retryDelaysMs);
        await connection.exchangeDelete({ exchange });
      } catch (error) {
        say(`could not remove exchange ${exchange} and its queues: ${String(error)}`);
      } finally {
        await connection.close();
      }
    },
  };
}
