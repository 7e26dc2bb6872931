import { afterEach, describe, expect, it } from 'vitest';
import { PLACEMENT_FAILURE_MESSAGE, startFulfilmentPartner, type RunningSimulator } from '../src/index.js';
import { atLeast, explanation, get, post, sequence } from './simulators.harness.js';

let partner: RunningSimulator | undefined;

afterEach(async () => {
  await partner?.close();
  partner = undefined;
});

/** A seed-profile partner (10% failures, 500 ms) on a free port, drawing its chance from `random`. */
async function start(random: () => number): Promise<string> {
  partner = await startFulfilmentPartner({ port: 0, random });
  return partner.url;
}

const items = [{ product_code: 'classic-box', quantity: 1 }];

describe('fulfilment partner, seed profile (seed 001)', () => {
  it('fails 10% of placements at once with seed 001’s message, and places the rest after 500 ms', async () => {
    const url = await start(sequence(0.05, 0.5));
    const failed = await post(`${url}/placements`, { order_id: 'o-1', items });
    expect(failed.status).toBe(503);
    expect(failed.text).toBe(
      JSON.stringify({ message: 'Failed to place order at stock exchange. Connection not available' }),
    );
    expect(failed.ms).toBeLessThan(200);

    const placed = await post(`${url}/placements`, { order_id: 'o-1', items });
    expect(placed.status).toBe(201);
    expect(placed.body).toMatchObject({ order_id: 'o-1', items });
    expect(placed.body.placement_id).toMatch(/^pl_/);
    expect(placed.ms).toBeGreaterThanOrEqual(atLeast(500));
  });

  it('fails one placement in ten', async () => {
    const url = await start(sequence(0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9));
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, n) => post(`${url}/placements`, { order_id: `o-${n}`, items })),
    );
    const failures = answers.filter((answer) => answer.status === 503);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.body).toEqual({ message: PLACEMENT_FAILURE_MESSAGE });
  });

  it('places an order once: a repeat returns the same placement at once', async () => {
    const url = await start(() => 0.5);
    const first = await post(`${url}/placements`, { order_id: 'o-1', items });
    const repeat = await post(`${url}/placements`, { order_id: 'o-1', items });
    expect(first.status).toBe(201);
    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual(first.body);
    expect(repeat.ms).toBeLessThan(200);
    expect((await get(`${url}/placements/o-1`)).body).toEqual(first.body);
  });

  it('answers 404 for an order never placed, including one whose placement failed', async () => {
    const url = await start(() => 0);
    expect((await post(`${url}/placements`, { order_id: 'o-failed', items })).status).toBe(503);
    expect((await get(`${url}/placements/o-failed`)).status).toBe(404);
    expect((await get(`${url}/placements/o-unknown`)).status).toBe(404);
  });

  it.each([
    ['not JSON', 'nope', 400, /not valid JSON/],
    ['no items', { order_id: 'o-1' }, 422, /missing property "items"/],
    ['empty items', { order_id: 'o-1', items: [] }, 422, /\/items/],
    ['an item without quantity', { order_id: 'o-1', items: [{ product_code: 'x' }] }, 422, /quantity/],
  ])('rejects a body with %s', async (_case, body, status, problem) => {
    const url = await start(() => 0.5);
    const answer = await post(`${url}/placements`, body);
    expect(answer.status).toBe(status);
    expect(explanation(answer)).toMatch(problem);
  });
});
