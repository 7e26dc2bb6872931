/**
 * The machine a bench:e2e run measures on, as its header and its results file give it: cores, CPU, Node,
 * PostgreSQL (and whether autovacuum is on), and a reference measured in the same run
 * (machine-reference.ts), so that figures from different machines can be set side by side.
 */
import { cpus } from 'node:os';
import { withAdminDatabase } from './database-session.js';
import { measureMachineReference, type MachineReference } from './machine-reference.js';

/** The machine of a run. */
export interface MachineDescription {
  cores: number;
  cpu: string | undefined;
  node: string;
  postgresql: string | undefined;
  autovacuum: string | undefined;
  reference: MachineReference;
}

/** Asks the PostgreSQL server at `postgresUrl` for its version and settings, and measures the reference. */
export async function describeMachine(postgresUrl: string): Promise<MachineDescription> {
  const versions = await withAdminDatabase(postgresUrl, async (client) => ({
    postgresql: (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]
      ?.server_version,
    autovacuum: (await client.query<{ autovacuum: string }>('SHOW autovacuum')).rows[0]?.autovacuum,
  }));
  const reference = await measureMachineReference(postgresUrl);
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    node: process.version,
    ...versions,
    reference,
  };
}
