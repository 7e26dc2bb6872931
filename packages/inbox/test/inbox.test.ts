import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnvelope } from '@platform/contracts';
import { createKysely, createPool, migrate, type Pool } from '@platform/postgres';
import { createTestDatabase, type TestDatabase } from '@platform/testing';
import { handleOnce, inboxMigrations, pruneInbox } from '../src/index.js';

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
  it('runs the effect once per consumer and event, even for copies handled at the same moment', async () => {
    const copy = event();
    let effects = 0;
    const outcomes = await Promise.all(
      [1, 2, 3].map(() =>
        handleOnce(db(), 'inventory', copy, async () => {
          effects += 1;
          return 'done';
        }),
      ),
    );
    expect(effects).toBe(1);
    expect(outcomes.filter((outcome) => !outcome.duplicate)).toHaveLength(1);
    // Another consumer of the same event has its own row.
    expect(await handleOnce(db(), 'payment', copy, async () => 'done')).toEqual({
      duplicate: false,
      result: 'done',
    });
  });

  it('leaves no row when the effect fails, so the event can be handled again', async () => {
    const failing = event();
    await expect(
      handleOnce(db(), 'inventory', failing, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await handleOnce(db(), 'inventory', failing, async () => 'second try')).toEqual({
      duplicate: false,
      result: 'second try',
    });
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
