import {
  delay,
  HttpError,
  sendEmpty,
  sendJson,
  startHttpSimulator,
  type ListenOptions,
  type RunningSimulator,
} from './http.js';
import { seedProfile, type UserBehaviour } from './profile.js';

/** Where the user simulator listens and which users it knows (the seed's by default). */
export interface UserSimulatorOptions extends ListenOptions {
  users?: Record<string, UserBehaviour>;
}

/** Starts seed 000's user service: `GET /users/{id}` → `{id, firstName, lastName}`, with per-user faults. */
export function startUserSimulator(options: UserSimulatorOptions = {}): Promise<RunningSimulator> {
  const users = new Map(Object.entries(options.users ?? seedProfile.users));
  // Per server instance, so every test that starts its own simulator sees the first call fail.
  const calls = new Map<string, number>();
  return startHttpSimulator(
    'user',
    [
      {
        method: 'GET',
        path: '/users/:id',
        handle: async ({ res, param: id, signal }) => {
          const user = users.get(id);
          if (!user) throw new HttpError(404, `User ${id} not found`);
          // Counted on arrival, so the turns follow the order in which calls come in, not finish.
          const call = (calls.get(id) ?? 0) + 1;
          calls.set(id, call);
          await delay(user.delayMs, signal);
          const status = user.alternate && call % 2 === 1 ? 500 : user.status;
          if (status === 200) sendJson(res, 200, { id, firstName: user.firstName, lastName: user.lastName });
          else sendEmpty(res, status);
        },
      },
    ],
    options,
  );
}
