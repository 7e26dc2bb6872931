import { afterEach, describe, expect, it } from 'vitest';
import { CHARGE_FAILURE_MESSAGE, startPaymentGateway, type RunningSimulator } from '../src/index.js';
import { explanation, get, post, sequence } from './simulators.harness.js';

let gateway: RunningSimulator | undefined;

afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

/** A seed-profile gateway (80% success) on a free port, drawing its chance from `random`. */
async function start(random: () => number): Promise<string> {
  gateway = await startPaymentGateway({ port: 0, random });
  return gateway.url;
}

describe('payment gateway, seed profile', () => {
  it('succeeds 80% of the time; otherwise answers a transient 503 with a message', async () => {
    const url = await start(sequence(0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9));
    const answers = [];
    for (let n = 0; n < 10; n += 1)
      answers.push(await post(`${url}/charges`, { order_id: `o-${n}`, amount: 9.99 }));
    expect(answers.map((answer) => answer.status)).toEqual([
      201, 201, 201, 201, 201, 201, 201, 201, 503, 503,
    ]);
    expect(answers[0]?.body).toMatchObject({ order_id: 'o-0', amount: 9.99 });
    expect(answers[0]?.body.charge_id).toMatch(/^ch_/);
    expect(answers[9]?.body).toEqual({ message: CHARGE_FAILURE_MESSAGE });
  });

  it('charges an order once: a repeat returns the same charge without drawing or charging again', async () => {
    let draws = 0;
    const url = await start(() => {
      draws += 1;
      return 0;
    });
    const first = await post(`${url}/charges`, { order_id: 'o-1', amount: 20 });
    const repeat = await post(`${url}/charges`, { order_id: 'o-1', amount: 20 });
    expect(first.status).toBe(201);
    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual(first.body);
    expect(draws).toBe(1);
    expect((await get(`${url}/charges/o-1`)).body).toEqual({
      order_id: 'o-1',
      charge: first.body,
      refund: null,
      failed_attempts: 0,
    });
  });

  it('lets a client retry a failed charge, and shows the failed attempts', async () => {
    const url = await start(sequence(0.95, 0.1));
    expect((await post(`${url}/charges`, { order_id: 'o-1', amount: 5 })).status).toBe(503);
    const retry = await post(`${url}/charges`, { order_id: 'o-1', amount: 5 });
    expect(retry.status).toBe(201);
    expect((await get(`${url}/charges/o-1`)).body).toMatchObject({ charge: retry.body, failed_attempts: 1 });
  });

  it('rejects a repeat charge with a different amount', async () => {
    const url = await start(() => 0);
    await post(`${url}/charges`, { order_id: 'o-1', amount: 5 });
    const conflicting = await post(`${url}/charges`, { order_id: 'o-1', amount: 6 });
    expect(conflicting.status).toBe(409);
    expect(conflicting.body.message).toMatch(/already charged 5/);
  });

  it('refunds a charge at most once: a repeat returns the same refund', async () => {
    const url = await start(() => 0);
    const charge = await post(`${url}/charges`, { order_id: 'o-1', amount: 9.99 });
    const refund = await post(`${url}/refunds`, { order_id: 'o-1', amount: 9.99 });
    const repeat = await post(`${url}/refunds`, { order_id: 'o-1', amount: 9.99 });
    expect(refund.status).toBe(201);
    expect(refund.body).toMatchObject({ order_id: 'o-1', amount: 9.99 });
    expect(refund.body.refund_id).toMatch(/^re_/);
    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual(refund.body);
    expect((await get(`${url}/charges/o-1`)).body).toEqual({
      order_id: 'o-1',
      charge: charge.body,
      refund: refund.body,
      failed_attempts: 0,
    });
  });

  it('refuses to refund an order that was never charged, or more than was charged', async () => {
    const url = await start(sequence(0.9, 0));
    const never = await post(`${url}/refunds`, { order_id: 'o-unknown', amount: 1 });
    expect(never.status).toBe(409);
    expect(never.body.message).toBe(
      'Order o-unknown has no successful charge, so there is nothing to refund',
    );

    expect((await post(`${url}/charges`, { order_id: 'o-failed', amount: 1 })).status).toBe(503);
    expect((await post(`${url}/refunds`, { order_id: 'o-failed', amount: 1 })).status).toBe(409);

    await post(`${url}/charges`, { order_id: 'o-1', amount: 10 });
    const tooMuch = await post(`${url}/refunds`, { order_id: 'o-1', amount: 11 });
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.message).toMatch(/exceeds the charge of 10/);
  });

  it('answers 404 for the state of an order it never saw', async () => {
    const url = await start(() => 0);
    expect((await get(`${url}/charges/o-unknown`)).status).toBe(404);
  });

  it.each([
    ['not JSON', '{"order_id": ', 400, /not valid JSON/],
    ['no order_id', { amount: 5 }, 422, /missing property "order_id"/],
    ['an empty order_id', { order_id: '', amount: 5 }, 422, /\/order_id/],
    ['a string amount', { order_id: 'o-1', amount: '5' }, 422, /\/amount/],
    ['a zero amount', { order_id: 'o-1', amount: 0 }, 422, /\/amount/],
  ])('rejects a body with %s', async (_case, body, status, problem) => {
    const url = await start(() => 0);
    for (const path of ['/charges', '/refunds']) {
      const answer = await post(`${url}${path}`, body);
      expect(answer.status).toBe(status);
      expect(explanation(answer)).toMatch(problem);
    }
  });
});
