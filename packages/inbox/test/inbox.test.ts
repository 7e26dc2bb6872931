import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnvelope } from '@platform/contracts';
import { createKysely, createPool, migrate, type Pool } from '@platform/postgres';
import { createTestDatabase, type TestDatabase } from '@platform/testing';
import { claimEvents, inboxMigrations, pruneInbox } from '../src/index.js';

let database: TestDatabase;
let pool: Pool;
const db = () => createKysely<Record<string, never>>(pool);

beforeAll(async () => {
  database = await createTestDatabase('inbox');
  pool = createPool({ connectionString: database.url, max: 4, applicationName: 'inbox-test' });
  await migrate(pool, await inboxMigrations());
});
afterAll(async () => {
  await pool.end();
  await database.drop();
});

const event = () =>
  createEnvelope({ type: 'order.created', producer: 'test', correlationId: 'o-1', payload: {} });

describe('inbox', () => {
  it('claims each event once per consumer, even for copies claimed by transactions at the same moment', async () => {
    const copy = event();
    const claims = await Promise.all(
      [1, 2, 3].map(() =>
        db()
          .transaction()
          .execute((trx) => claimEvents(trx, 'inventory', [copy])),
      ),
    );
    expect(claims.filter((claimed) => claimed.has(copy.id))).toHaveLength(1);
    // Another consumer of the same event has its own row.
    const other = await db()
      .transaction()
      .execute((trx) => claimEvents(trx, 'payment', [copy]));
    expect(other.has(copy.id)).toBe(true);
  });

  it('claims a batch in one go: new events, not the ones handled before, and a copy within the batch once', async () => {
    const seen = event();
    await db()
      .transaction()
      .execute((trx) => claimEvents(trx, 'inventory', [seen]));
    const fresh = event();
    const claimed = await db()
      .transaction()
      .execute((trx) => claimEvents(trx, 'inventory', [seen, fresh, fresh]));
    expect([...claimed]).toEqual([fresh.id]);
  });

  it('leaves no row when the transaction rolls back, so the event can be handled again', async () => {
    const failing = event();
    await expect(
      db()
        .transaction()
        .execute(async (trx) => {
          await claimEvents(trx, 'inventory', [failing]);
          throw new Error('boom');
        }),
    ).rejects.toThrow('boom');
    const again = await db()
      .transaction()
      .execute((trx) => claimEvents(trx, 'inventory', [failing]));
    expect(again.has(failing.id)).toBe(true);
  });

  it('prunes rows older than the retention, in batches, and keeps the recent ones', async () => {
    await database.query(`
      INSERT INTO inbox (consumer, event_id, event_type, handled_at)
      SELECT 'old', 'e' || n, 'order.created', now() - interval '8 days' FROM generate_series(1, 25) AS n`);
    const recent = await database.query<{ n: number }>('SELECT count(*)::int AS n FROM inbox');
    expect(await pruneInbox(db(), 7 * 24 * 3_600_000, 10)).toBe(10);
    expect(await pruneInbox(db(), 7 * 24 * 3_600_000, 100)).toBe(15);
    expect(await pruneInbox(db(), 7 * 24 * 3_600_000, 100)).toBe(0);
    const left = await database.query<{ n: number }>('SELECT count(*)::int AS n FROM inbox');
    expect(left[0]?.n).toBe((recent[0]?.n ?? 0) - 25);
    expect(left[0]?.n).toBeGreaterThan(0);
  });
});
