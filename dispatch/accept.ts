import { acceptOffer, closeOffer, type AcceptResult } from '../db/dispatch-repository.ts';
import type { DispatchDeps } from './matcher.ts';
import { createOfferHolds } from './offer-holds.ts';

/** Accepts in Postgres (atomically), then takes the rider out of the available pool in Redis. */
export async function acceptAndAssign(deps: DispatchDeps, offerId: string, riderId: string): Promise<AcceptResult> {
  const result = await acceptOffer(deps.db, offerId, riderId);
  if (result.kind === 'accepted') {
    await deps.location.setStatus(riderId, 'busy', Date.now());
    await deps.tracking.attachRider(result.orderId, riderId);
    // The timeout job has nothing left to do; if it already started, it finds the offer closed.
    await deps.queues.get('dispatch').remove(offerId).catch(() => 0);
    await createOfferHolds(deps.redis, deps.config.queuePrefix).release(riderId);
  }
  return result;
}

/** A rider passed on an offer: the order moves to the next rider, and this one may be asked again. */
export async function rejectOffer(deps: DispatchDeps, offerId: string, riderId: string): Promise<string | undefined> {
  const orderId = await closeOffer(deps.db, offerId, 'REJECTED', riderId);
  if (!orderId) return undefined;
  await createOfferHolds(deps.redis, deps.config.queuePrefix).release(riderId);
  await deps.queues.get('dispatch').add('dispatch.match', { orderId });
  return orderId;
}
