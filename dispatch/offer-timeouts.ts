import { expireOffers, overdueOffers } from '../db/dispatch-batch-repository.ts';
import { releaseRider } from './accept.ts';
import type { DispatchDeps } from './matcher.ts';

/**
 * The delayed `dispatch.offer-timeout` job of the offers one matching batch wrote together
 * (dispatch/match-batches.ts): their statement gave them one expiry, within milliseconds, so one
 * delayed job runs when they have all run out, instead of one job per offer that an accept had to
 * remove and a reject left to run for nothing. Each offer still times out on its own terms: only
 * one still pending and past its `expires_at` is expired (one statement for all of them), its order
 * goes to the next rider and its rider back to the available pool. An offer answered meanwhile is
 * left as it is, so nothing needs to cancel the job.
 */
export async function expireAndMoveOn(deps: DispatchDeps, offerIds: readonly string[]): Promise<string[]> {
  const expired = await expireOffers(deps.db, offerIds);
  if (expired.length === 0) return [];
  await Promise.all([
    deps.queues.get('dispatch').addBulk(expired.map((e) => ({ name: 'dispatch.match', data: { orderId: e.orderId } }))),
    ...expired.map((e) => releaseRider(deps, e.riderId)),
  ]);
  return expired.map((e) => e.orderId);
}

/**
 * The safety net behind the timeout jobs: offers still pending `graceMs` after they ran out are
 * expired and their orders moved on, as their job would have done. Running beside a late job is
 * harmless: the statement expires each offer once, and only one of them moves its order on.
 */
export async function sweepOverdueOffers(deps: DispatchDeps, options: { graceMs: number; limit: number }): Promise<string[]> {
  return expireAndMoveOn(deps, await overdueOffers(deps.db, options.graceMs, options.limit));
}

/** The timeout job's id for a batch's offers: never an offer's own id, so no one mistakes it for a single offer's job. */
export const offerTimeoutJobId = (offerIds: readonly string[]) => `timeout-${offerIds[0]}`;
