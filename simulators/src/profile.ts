import { readFile } from 'node:fs/promises';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { validationProblems } from './validation.js';

/** How the product simulator answers `GET /products/{code}` for one code. */
export interface ProductBehaviour {
  name: string;
  price: number;
  /** Milliseconds before the answer. */
  delayMs: number;
  /** 200 answers `{code, name, price}`; any other status answers with no body, like the seed's stubs. */
  status: number;
}

/** How the user simulator answers `GET /users/{id}` for one id. */
export interface UserBehaviour {
  firstName: string;
  lastName: string;
  delayMs: number;
  /** 200 answers `{id, firstName, lastName}`; any other status answers with no body. */
  status: number;
  /** When true, calls alternate between 500 (no body) and `status`, the first call failing (seed 000). */
  alternate: boolean;
}

/** How the payment gateway treats a new charge. */
export interface PaymentBehaviour {
  /** Probability (0–1) that a new charge succeeds; otherwise it answers a transient 503. */
  successRate: number;
  /** Milliseconds a new charge or refund takes. */
  delayMs: number;
}

/** How the fulfilment partner treats a new placement. */
export interface FulfilmentBehaviour {
  /** Probability (0–1) that a new placement fails at once with a 503 (seed 001). */
  failureRate: number;
  /** Milliseconds a successful placement takes. */
  delayMs: number;
}

/** Everything the four simulators need to know to behave like one scenario's third parties. */
export interface Profile {
  products: Record<string, ProductBehaviour>;
  users: Record<string, UserBehaviour>;
  payment: PaymentBehaviour;
  fulfilment: FulfilmentBehaviour;
}

/** The third parties exactly as the seed documents describe them (SPEC §6, seeds/ORIGINS.md). */
export const seedProfile: Profile = {
  products: {
    'classic-box': { name: 'Classic Box', price: 9.99, delayMs: 200, status: 200 },
    'family-box': { name: 'Family Box', price: 14.99, delayMs: 60_000, status: 200 },
    // The seed never reveals veggie-box's name or price (it always fails); these show only in `fast`.
    'veggie-box': { name: 'Veggie Box', price: 12.99, delayMs: 200, status: 500 },
    'product-A': { name: 'Product A', price: 50, delayMs: 0, status: 200 },
    'product-B': { name: 'Product B', price: 50, delayMs: 0, status: 200 },
    'product-C': { name: 'Product C', price: 25, delayMs: 0, status: 200 },
  },
  users: {
    '7c11e1ce2741': { firstName: 'Ada', lastName: 'Lovelace', delayMs: 300, status: 200, alternate: false },
    e6f24d7d1c7e: { firstName: 'Alan', lastName: 'Turing', delayMs: 300, status: 200, alternate: true },
    'customer-123': { firstName: 'Grace', lastName: 'Hopper', delayMs: 0, status: 200, alternate: false },
  },
  payment: { successRate: 0.8, delayMs: 0 },
  fulfilment: { failureRate: 0.1, delayMs: 500 },
};

/** The seed's catalog and users with every delay and fault removed, for benchmarks. */
export const fastProfile: Profile = {
  products: mapValues(seedProfile.products, (product) => ({ ...product, delayMs: 0, status: 200 })),
  users: mapValues(seedProfile.users, (user) => ({ ...user, delayMs: 0, status: 200, alternate: false })),
  payment: { successRate: 1, delayMs: 0 },
  fulfilment: { failureRate: 0, delayMs: 0 },
};

const DelayMs = Type.Integer({ minimum: 0 });
const Status = Type.Integer({ minimum: 200, maximum: 599 });
const Rate = Type.Number({ minimum: 0, maximum: 1 });
const closed = { additionalProperties: false } as const;

/**
 * The JSON profile file: every section and every field without a value here is optional.
 * Omitted sections mean "none known" (products, users) or "always succeeds, at once" (payment, fulfilment);
 * omitted fields default to delayMs 0, status 200, alternate false. Unknown keys are errors (typos).
 */
const ProfileFile = Type.Object(
  {
    description: Type.Optional(Type.String()),
    products: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Object(
          {
            name: Type.String({ minLength: 1 }),
            price: Type.Number({ minimum: 0 }),
            delayMs: Type.Optional(DelayMs),
            status: Type.Optional(Status),
          },
          closed,
        ),
      ),
    ),
    users: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Object(
          {
            firstName: Type.String({ minLength: 1 }),
            lastName: Type.String({ minLength: 1 }),
            delayMs: Type.Optional(DelayMs),
            status: Type.Optional(Status),
            alternate: Type.Optional(Type.Boolean()),
          },
          closed,
        ),
      ),
    ),
    payment: Type.Optional(
      Type.Object({ successRate: Type.Optional(Rate), delayMs: Type.Optional(DelayMs) }, closed),
    ),
    fulfilment: Type.Optional(
      Type.Object({ failureRate: Type.Optional(Rate), delayMs: Type.Optional(DelayMs) }, closed),
    ),
  },
  closed,
);

/** The contents of a JSON profile file, before defaults are applied. */
export type ProfileFile = Static<typeof ProfileFile>;

/** Thrown when a profile cannot be read or is invalid; lists every problem. */
export class ProfileError extends Error {
  constructor(
    message: string,
    readonly problems: string[] = [],
  ) {
    super([message, ...problems.map((problem) => `  - ${problem}`)].join('\n'));
    this.name = 'ProfileError';
  }
}

/** `'seed'`, `'fast'`, or the path of a JSON profile file (see {@link ProfileFile} and the README). */
export async function loadProfile(pathOrName: string): Promise<Profile> {
  if (pathOrName === 'seed') return seedProfile;
  if (pathOrName === 'fast') return fastProfile;
  let text: string;
  try {
    text = await readFile(pathOrName, 'utf8');
  } catch (error) {
    throw new ProfileError(
      `Cannot read simulator profile ${JSON.stringify(pathOrName)} (expected "seed", "fast" or the path ` +
        `of a JSON file): ${(error as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ProfileError(`Simulator profile ${pathOrName} is not valid JSON: ${(error as Error).message}`);
  }
  return parseProfile(json, pathOrName);
}

/** Validates a parsed profile file and fills in its defaults; `source` names it in errors. */
export function parseProfile(value: unknown, source = 'profile'): Profile {
  if (!Value.Check(ProfileFile, value)) {
    throw new ProfileError(`Invalid simulator profile ${source}:`, validationProblems(ProfileFile, value));
  }
  return {
    products: mapValues(value.products ?? {}, (product) => ({
      name: product.name,
      price: product.price,
      delayMs: product.delayMs ?? 0,
      status: product.status ?? 200,
    })),
    users: mapValues(value.users ?? {}, (user) => ({
      firstName: user.firstName,
      lastName: user.lastName,
      delayMs: user.delayMs ?? 0,
      status: user.status ?? 200,
      alternate: user.alternate ?? false,
    })),
    payment: { successRate: value.payment?.successRate ?? 1, delayMs: value.payment?.delayMs ?? 0 },
    fulfilment: { failureRate: value.fulfilment?.failureRate ?? 0, delayMs: value.fulfilment?.delayMs ?? 0 },
  };
}

function mapValues<A, B>(record: Record<string, A>, map: (value: A) => B): Record<string, B> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, map(value)]));
}
