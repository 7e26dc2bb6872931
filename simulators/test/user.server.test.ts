import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startUserSimulator, type RunningSimulator } from '../src/index.js';
import { atLeast, get } from './simulators.harness.js';

let user: RunningSimulator;

beforeEach(async () => {
  user = await startUserSimulator({ port: 0 });
});

afterEach(async () => {
  await user.close();
});

describe('user simulator, seed profile (seed 000)', () => {
  it('answers Ada Lovelace after 300 ms', async () => {
    const answer = await get(`${user.url}/users/7c11e1ce2741`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ id: '7c11e1ce2741', firstName: 'Ada', lastName: 'Lovelace' });
    expect(answer.ms).toBeGreaterThanOrEqual(atLeast(300));
  });

  it('answers Alan Turing with 500 and 200 in turn, the first call failing, each after 300 ms', async () => {
    const answers = [];
    for (let call = 0; call < 4; call += 1) answers.push(await get(`${user.url}/users/e6f24d7d1c7e`));
    expect(answers.map((answer) => answer.status)).toEqual([500, 200, 500, 200]);
    expect(answers[0]?.text).toBe('');
    expect(answers[1]?.body).toEqual({ id: 'e6f24d7d1c7e', firstName: 'Alan', lastName: 'Turing' });
    for (const answer of answers) expect(answer.ms).toBeGreaterThanOrEqual(atLeast(300));
  });

  it('counts calls per user, so other users do not move Alan Turing’s turn', async () => {
    await get(`${user.url}/users/7c11e1ce2741`);
    await get(`${user.url}/users/customer-123`);
    expect((await get(`${user.url}/users/e6f24d7d1c7e`)).status).toBe(500);
  });

  it('keeps the turns per server instance: a new simulator fails its first call again', async () => {
    expect((await get(`${user.url}/users/e6f24d7d1c7e`)).status).toBe(500);
    const another = await startUserSimulator({ port: 0 });
    try {
      expect((await get(`${another.url}/users/e6f24d7d1c7e`)).status).toBe(500);
    } finally {
      await another.close();
    }
    expect((await get(`${user.url}/users/e6f24d7d1c7e`)).status).toBe(200);
  });

  it('answers Grace Hopper at once', async () => {
    const answer = await get(`${user.url}/users/customer-123`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ id: 'customer-123', firstName: 'Grace', lastName: 'Hopper' });
    expect(answer.ms).toBeLessThan(150);
  });

  it('answers 404 for an unknown user', async () => {
    const answer = await get(`${user.url}/users/nobody`);
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual({ message: 'User nobody not found' });
  });
});
