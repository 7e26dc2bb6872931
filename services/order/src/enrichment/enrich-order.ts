import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { appendToOutbox } from '@platform/outbox';
import type { OrderDatabase } from '../database.js';
import type { CancellationReason, Order } from '../orders/order.js';
import { orderCancelled, orderCreated } from '../orders/order.events.js';
import { cancelPendingOrder } from '../orders/orders.repository.js';
import { markPriced } from './enrichment.repository.js';
import { priceOrder, type Answers, type PricingVerdict } from './price-order.js';
import type { ThirdPartyMetrics } from './third-parties.metrics.js';
import type { createProductClient, createUserClient } from './third-parties.client.js';

/** What pricing an order needs. */
export interface EnrichmentDeps {
  db: Kysely<OrderDatabase>;
  products: ReturnType<typeof createProductClient>;
  users: ReturnType<typeof createUserClient>;
  /** From the order's creation: past it, an order still missing answers is cancelled. */
  deadlineMs: number;
  retry: { baseMs: number; maxMs: number };
  metrics?: ThirdPartyMetrics;
}

/** How enriching one order ended. */
export type EnrichmentOutcome = 'priced' | CancellationReason | 'already_settled';

/**
 * Prices one order: asks the user and product services, asks again only what went unanswered, with
 * exponential backoff and full jitter, until the order's deadline; then records the verdict together with
 * its event. `signal` aborts the waiting between attempts (the worker stopping); nothing is recorded then.
 */
export async function enrichOrder(
  deps: EnrichmentDeps,
  order: Order,
  signal: AbortSignal,
): Promise<EnrichmentOutcome> {
  const deadline = order.created_at.getTime() + deps.deadlineMs;
  const answers: Answers = { user: { kind: 'unavailable', cause: 'not asked yet' }, products: new Map() };
  for (let attempt = 0; ; attempt += 1) {
    await askWhatIsMissing(deps, order, answers, attempt > 0);
    const verdict = priceOrder(order, answers);
    if (verdict.kind !== 'undecided') return recordVerdict(deps.db, order, verdict);
    const backoff = Math.random() * Math.min(deps.retry.maxMs, deps.retry.baseMs * 2 ** attempt);
    if (Date.now() + backoff >= deadline) {
      return recordVerdict(deps.db, order, { kind: 'cancelled', reason: 'dependency_unavailable' });
    }
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

/** Writes the verdict and its event in one transaction, unless the order was settled meanwhile. */
async function recordVerdict(
  db: Kysely<OrderDatabase>,
  order: Order,
  verdict: Exclude<PricingVerdict, { kind: 'undecided' }>,
): Promise<EnrichmentOutcome> {
  return db.transaction().execute(async (trx) => {
    if (verdict.kind === 'priced') {
      const priced = await markPriced(trx, order.id, verdict);
      if (!priced) return 'already_settled';
      await appendToOutbox(trx, [orderCreated(priced)]);
      return 'priced';
    }
    const cancelled = await cancelPendingOrder(trx, order.id, verdict.reason, { unpricedOnly: true });
    if (!cancelled) return 'already_settled';
    await appendToOutbox(trx, [orderCancelled(cancelled, verdict.reason)]);
    return verdict.reason;
  });
}
