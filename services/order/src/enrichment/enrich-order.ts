import { setTimeout as sleep } from 'node:timers/promises';
import type { CancellationReason, Order } from '../orders/order.js';
import { priceOrder, type Answers, type PricingVerdict } from './price-order.js';
import type { ThirdPartyMetrics } from './third-parties.metrics.js';
import type { createProductClient, createUserClient } from './third-parties.client.js';

/** What pricing an order needs. */
export interface EnrichmentDeps {
  products: ReturnType<typeof createProductClient>;
  users: ReturnType<typeof createUserClient>;
  /** From the order's creation: past it, an order still missing answers is cancelled. */
  deadlineMs: number;
  retry: { baseMs: number; maxMs: number };
  metrics?: ThirdPartyMetrics;
}

/** How enriching one order ended. */
export type EnrichmentOutcome = 'priced' | CancellationReason | 'already_settled';

/** The verdict on an order once decided: priced, or cancelled with its reason. */
export type FinalVerdict = Exclude<PricingVerdict, { kind: 'undecided' }>;

/**
 * Prices one order: asks the user and product services, asks again only what went unanswered, with
 * exponential backoff and full jitter, until the order's deadline, and gives the verdict (recorded by the
 * caller, with its event). `signal` aborts the waiting between attempts (the worker stopping).
 */
export async function enrichOrder(
  deps: EnrichmentDeps,
  order: Order,
  signal: AbortSignal,
): Promise<FinalVerdict> {
  const deadline = order.created_at.getTime() + deps.deadlineMs;
  const answers: Answers = { user: { kind: 'unavailable', cause: 'not asked yet' }, products: new Map() };
  for (let attempt = 0; ; attempt += 1) {
    await askWhatIsMissing(deps, order, answers, attempt > 0);
    const verdict = priceOrder(order, answers);
    if (verdict.kind !== 'undecided') return verdict;
    const backoff = Math.random() * Math.min(deps.retry.maxMs, deps.retry.baseMs * 2 ** attempt);
    if (Date.now() + backoff >= deadline) return { kind: 'cancelled', reason: 'dependency_unavailable' };
    await sleep(backoff, undefined, { signal });
  }
}

async function askWhatIsMissing(
  deps: EnrichmentDeps,
  order: Order,
  answers: Answers,
  isRetry: boolean,
): Promise<void> {
  const settled = (kind: string) => kind === 'found' || kind === 'not_found';
  const asks: Promise<void>[] = [];
  if (!settled(answers.user.kind)) {
    if (isRetry) deps.metrics?.retries.inc({ dependency: 'user' });
    asks.push(deps.users.lookup(order.user_id).then((answer) => void (answers.user = answer)));
  }
  for (const { product_code: code } of order.items) {
    const known = answers.products.get(code);
    if (known && settled(known.kind)) continue;
    if (isRetry) deps.metrics?.retries.inc({ dependency: 'product' });
    asks.push(deps.products.lookup(code).then((answer) => void answers.products.set(code, answer)));
  }
  await Promise.all(asks);
}
