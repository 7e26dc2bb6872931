import { backoffMs } from '@platform/backoff';
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

/** After one attempt: the verdict, or when to ask again what is still missing (ms). */
export type AttemptOutcome = FinalVerdict | { kind: 'undecided'; retryInMs: number };

/**
 * One attempt at pricing an order: asks the user and product services what `answers` (kept by the caller
 * between attempts, empty at first) does not hold yet, and gives the verdict, or, while answers are missing
 * and the order's deadline is not near, when to ask again (exponential backoff with full jitter). Past the
 * deadline an order still missing answers is cancelled (`dependency_unavailable`, SPEC §7 seed 000).
 */
export async function attemptEnrichment(
  deps: EnrichmentDeps,
  order: Order,
  answers: Answers,
  attempt: number,
): Promise<AttemptOutcome> {
  await askWhatIsMissing(deps, order, answers, attempt > 0);
  const verdict = priceOrder(order, answers);
  if (verdict.kind !== 'undecided') return verdict;
  const deadline = order.created_at.getTime() + deps.deadlineMs;
  const backoff = backoffMs(attempt + 1, deps.retry, 'full');
  if (Date.now() + backoff >= deadline) return { kind: 'cancelled', reason: 'dependency_unavailable' };
  return { kind: 'undecided', retryInMs: backoff };
}

/** Nothing asked yet. */
export const noAnswers = (): Answers => ({
  user: { kind: 'unavailable', cause: 'not asked yet' },
  products: new Map(),
});

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
