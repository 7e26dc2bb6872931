import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBroker } from '@platform/messaging';
import { claimEvents, inboxMigrations } from '@platform/inbox';
import { createLogger } from '@platform/observability';
import { outboxMigrations, startOutboxRelay } from '@platform/outbox';
import { createKysely, createPool, migrate, type Pool } from '@platform/postgres';
import {
  createTestDatabase,
  createTestExchange,
  TEST_RABBITMQ_URL,
  waitFor,
  type TestDatabase,
  type TestExchange,
} from '@platform/testing';

// Issue 21 folded the deletion of a published outbox row into the service's next transaction: a process
// that dies between the broker's confirm and that transaction leaves the row, which the relay publishes
// again. The duplicate must reach the consumer as the same event, for its inbox to absorb.
let database: TestDatabase;
let exchange: TestExchange;
let pool: Pool;

beforeAll(async () => {
  database = await createTestDatabase('outbox_crash');
  exchange = await createTestExchange('outbox_crash');
  pool = createPool({ connectionString: database.url, max: 4, applicationName: 'outbox-crash-test' });
  await migrate(pool, [...(await outboxMigrations()), ...(await inboxMigrations())]);
});
afterAll(async () => {
  await pool.end();
  await exchange.remove();
  await database.drop();
});

describe('a crash between publishing an event and deleting its outbox row', () => {
  it('leaves the row to the relay, and the duplicate it publishes is absorbed by the inbox', async () => {
    const received = await exchange.capture(['#']);
    const child = fork(fileURLToPath(new URL('./fixtures/publish-then-hang.mjs', import.meta.url)), [
      database.url,
      TEST_RABBITMQ_URL,
      exchange.name,
    ]);
    const { id } = await new Promise<{ id: string }>((resolve, reject) => {
      child.once('message', (message) => resolve(message as { id: string }));
      child.once('exit', (code) => reject(new Error(`the publisher exited first (${String(code)})`)));
    });
    // Confirmed by the broker, its row not deleted yet (that waits for the next transaction): kill -9.
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    await waitFor('the first delivery', () => received.length === 1);
    const left = await pool.query<{ id: string }>('SELECT id FROM outbox');
    expect(left.rows.map((row) => row.id)).toEqual([id]);

    // The relay of the restarted service takes the row and publishes it again: the same event id.
    const logger = createLogger({ service: 'outbox-crash-test', level: 'silent' });
    const broker = connectBroker({
      url: TEST_RABBITMQ_URL,
      connectionName: 'outbox-crash-relay',
      exchange: exchange.name,
      subscriptions: {},
      logger,
    });
    const relay = startOutboxRelay({ pool, broker, logger, pollIntervalMs: 100, minAgeMs: 0 });
    try {
      await waitFor('the relay to publish the row again', () => received.length === 2, 10_000);
      await waitFor('the row deleted', async () => (await pool.query('SELECT 1 FROM outbox')).rowCount === 0);
    } finally {
      await relay.stop();
      await broker.close();
    }
    expect(received.map((message) => message.messageId)).toEqual([id, id]);

    // A consumer applies each delivery with its inbox claim: the second is a duplicate, with no effect.
    const db = createKysely<Record<string, never>>(pool);
    const claims = [];
    for (const message of received) {
      const event = message.body as { id: string; type: string };
      claims.push(await db.transaction().execute((trx) => claimEvents(trx, 'consumer', [event])));
    }
    expect(claims.map((fresh) => fresh.has(id))).toEqual([true, false]);
  });
});
