import { expireOffers, overdueOffers } from '../db/dispatch-batch-repository.ts';
import { releaseRider } from './accept.ts';
import { createBatcher } from '../runtime/batcher.ts';
import type { QueueSet } from '../runtime/queues.ts';
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

/** Offers one timeout job covers at most (its payload takes up to 1,000). */
const MAX_OFFERS_PER_JOB = 500;

export interface OfferTimeouts {
  /**
   * Sets the offers' timeout: one delayed `dispatch.offer-timeout` job, due `offerTimeoutMs` from
   * when it is added. Resolves once the job is added, or at once with a window (the job is added
   * when the window closes).
   */
  add(offerIds: readonly string[]): Promise<void>;
  /** Adds the open window's job now (at shutdown). */
  flush(): Promise<void>;
}

/**
 * The offers' timeout jobs. Without a window, one job for each call. With one (`windowMs` > 0),
 * one job for every offer written within the window: at a hot spot a matching batch writes about
 * three offers, and most of their jobs (one for each batch, about 3,500 a minute) found every
 * offer already answered, yet each cost a Postgres statement and a BullMQ job's Redis scripts. The
 * job is due `offerTimeoutMs` after the window closes, so an offer times out up to `windowMs`
 * late, never early (the statement expires only offers past their `expires_at`). A job that could
 * not be added is reported to `onError` and left to the sweep (`dispatch.offer-sweep`).
 */
export function createOfferTimeouts(queues: QueueSet, options: { offerTimeoutMs: number; windowMs: number; onError(err: unknown, offerIds: readonly string[]): void }): OfferTimeouts {
  const addJob = async (offerIds: readonly string[]) => {
    if (offerIds.length === 0) return;
    await queues.get('dispatch').add('dispatch.offer-timeout', { offerIds }, { jobId: offerTimeoutJobId(offerIds), delay: options.offerTimeoutMs });
  };
  if (options.windowMs <= 0) return { add: addJob, flush: async () => {} };
  // A window is a batch of offer ids; a failed add is reported once for the window, so no offer's
  // own request is left rejected with nobody waiting on it.
  const window = createBatcher(
    async (offerIds: string[]) => {
      await addJob(offerIds).catch((err: unknown) => options.onError(err, offerIds));
      return offerIds.map(() => undefined);
    },
    { maxWaitMs: options.windowMs, maxSize: MAX_OFFERS_PER_JOB },
  );
  return {
    async add(offerIds) {
      for (const id of offerIds) void window(id);
    },
    flush: () => window.flush(),
  };
}

/** The timeout job's id for a batch's offers: never an offer's own id, so no one mistakes it for a single offer's job. */
export const offerTimeoutJobId = (offerIds: readonly string[]) => `timeout-${offerIds[0]}`;
