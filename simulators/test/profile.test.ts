import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastProfile, loadProfile, ProfileError, seedProfile } from '../src/index.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'simulators-profile-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function profileFile(name: string, contents: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof contents === 'string' ? contents : JSON.stringify(contents));
  return path;
}

describe('loadProfile', () => {
  it('knows the built-in seed and fast profiles', async () => {
    expect(await loadProfile('seed')).toBe(seedProfile);
    expect(await loadProfile('fast')).toBe(fastProfile);
  });

  it('derives fast from the seed: same catalog and users, no delays, no faults', () => {
    expect(Object.keys(fastProfile.products)).toEqual(Object.keys(seedProfile.products));
    expect(Object.keys(fastProfile.users)).toEqual(Object.keys(seedProfile.users));
    for (const product of Object.values(fastProfile.products))
      expect(product).toMatchObject({ delayMs: 0, status: 200 });
    for (const user of Object.values(fastProfile.users)) {
      expect(user).toMatchObject({ delayMs: 0, status: 200, alternate: false });
    }
    expect(fastProfile.payment).toEqual({ successRate: 1, delayMs: 0 });
    expect(fastProfile.fulfilment).toEqual({ failureRate: 0, delayMs: 0 });
  });

  it('reads a JSON file and fills in the defaults', async () => {
    const path = await profileFile('minimal.json', {
      products: { 'x-box': { name: 'X Box', price: 3.5 } },
      users: { u1: { firstName: 'Edsger', lastName: 'Dijkstra', alternate: true } },
      payment: { delayMs: 10 },
    });
    expect(await loadProfile(path)).toEqual({
      products: { 'x-box': { name: 'X Box', price: 3.5, delayMs: 0, status: 200 } },
      users: { u1: { firstName: 'Edsger', lastName: 'Dijkstra', delayMs: 0, status: 200, alternate: true } },
      payment: { successRate: 1, delayMs: 10 },
      fulfilment: { failureRate: 0, delayMs: 0 },
    });
  });

  it('loads the documented example profile', async () => {
    const profile = await loadProfile(join(import.meta.dirname, '../profiles/example.json'));
    expect(profile.products['broken-box']?.status).toBe(503);
    expect(profile.payment).toEqual({ successRate: 0.5, delayMs: 1000 });
  });

  it('lists every problem of an invalid profile, with where it is', async () => {
    const path = await profileFile('invalid.json', {
      products: { 'x-box': { name: 'X Box', price: 'cheap', delay: 5 } },
      users: { u1: { firstName: 'Edsger' } },
      payment: { successRate: 1.5 },
      fulfilment: { failureRate: 0.1, delayMs: -1 },
      extra: true,
    });
    const error = await loadProfile(path).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProfileError);
    const { message, problems } = error as ProfileError;
    expect(message).toMatch(new RegExp(`^Invalid simulator profile ${path}:`));
    expect(problems).toEqual(
      expect.arrayContaining([
        '/: unknown property "extra"',
        '/products/x-box: unknown property "delay"',
        expect.stringMatching(/^\/products\/x-box\/price: must be number/),
        '/users/u1: missing property "lastName"',
        expect.stringMatching(/^\/payment\/successRate: must be <= 1/),
        expect.stringMatching(/^\/fulfilment\/delayMs: must be >= 0/),
      ]),
    );
    expect(problems).toHaveLength(6);
  });

  it('says so when the file is not JSON, or does not exist', async () => {
    const notJson = await profileFile('broken.json', '{ "products": ');
    await expect(loadProfile(notJson)).rejects.toThrow(`Simulator profile ${notJson} is not valid JSON`);
    await expect(loadProfile('sede')).rejects.toThrow(
      'Cannot read simulator profile "sede" (expected "seed", "fast" or the path of a JSON file)',
    );
  });
});
