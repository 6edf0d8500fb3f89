import { acceptOffer, closeOffer, hasActiveOrder, pendingOffers, withdrawDispatch, type AcceptResult } from '../db/dispatch-repository.ts';
import type { Knex } from 'knex';
import { acceptOffers } from '../db/dispatch-batch-repository.ts';
import { API_WRITE_LINGER_MS, createGroupCommit } from '../runtime/group-commit.ts';
import type { DispatchDeps } from './matcher.ts';
import { createCandidateFacts } from './candidate-facts.ts';
import { createOfferHolds } from './offer-holds.ts';

export type OfferAcceptor = (offerId: string, riderId: string) => Promise<AcceptResult>;

/**
 * Riders' accepts for a busy process (the API): answers arriving in the same event-loop turn, or
 * within {@link API_WRITE_LINGER_MS} while another batch is being decided, are decided in one
 * statement (db/dispatch-batch-repository.ts: acceptOffers), each as it would be alone.
 */
export function createOfferAcceptor(db: Knex): OfferAcceptor {
  const accept = createGroupCommit((answers: Array<{ offerId: string; riderId: string }>) => acceptOffers(db, answers), { maxInFlight: 4, lingerMs: API_WRITE_LINGER_MS });
  return (offerId, riderId) => accept({ offerId, riderId });
}

/**
 * Accepts in Postgres (atomically), then takes the rider out of the available pool in Redis.
 * `accept` decides it: alone by default, or grouped ({@link createOfferAcceptor}).
 */
export async function acceptAndAssign(deps: DispatchDeps, offerId: string, riderId: string, accept: OfferAcceptor = (o, r) => acceptOffer(deps.db, o, r)): Promise<AcceptResult> {
  const result = await accept(offerId, riderId);
  if (result.kind === 'accepted') {
    // Independent of one another: side by side, one round trip of latency for the rider.
    await Promise.all([
      deps.location.setStatus(riderId, 'busy', Date.now()),
      deps.tracking.attachRider(result.orderId, riderId),
      createOfferHolds(deps.redis, deps.config.queuePrefix).release(riderId),
      result.profile && createCandidateFacts(deps.db, deps.redis, deps.config.queuePrefix).saveProfile(riderId, result.profile),
    ]);
  }
  return result;
}

/**
 * Closes a pending offer the rider passed on (or let run out): the order moves to the next rider,
 * and the rider, out of the available pool while they considered it, is back in it. Returns the
 * order id, or undefined when the offer was no longer pending.
 */
export async function closeAndMoveOn(deps: DispatchDeps, offerId: string, outcome: 'REJECTED' | 'EXPIRED', riderId?: string): Promise<string | undefined> {
  const closed = await closeOffer(deps.db, offerId, outcome, riderId);
  if (!closed) return undefined;
  await Promise.all([deps.queues.get('dispatch').add('dispatch.match', { orderId: closed.orderId }), releaseRider(deps, closed.riderId, closed.riderHasOrder)]);
  return closed.orderId;
}

/**
 * A rider going offline passes on the offers they were considering, as a reject would: each order
 * moves to its next rider now instead of when the offer runs out. Call it once the rider is offline
 * (releaseRider then leaves them so). Returns the offers passed on.
 */
export async function passOnPendingOffers(deps: DispatchDeps, riderId: string): Promise<string[]> {
  const offers = await pendingOffers(deps.db, riderId);
  const passed = await Promise.all(offers.map(async (o) => ((await closeAndMoveOn(deps, o.id, 'REJECTED', riderId)) ? o.id : undefined)));
  return passed.filter((id): id is string => id !== undefined);
}

/**
 * An order cancelled while dispatch was still looking for its rider: the pending offer is withdrawn,
 * the dispatch closed, and the rider who was considering it is back in the available pool at once
 * (not 15 s later, when the offer would have run out). Returns the offers withdrawn, so their
 * riders can be told.
 */
export async function withdrawForCancelledOrder(deps: DispatchDeps, orderId: string): Promise<Array<{ offerId: string; riderId: string }>> {
  const withdrawn = await withdrawDispatch(deps.db, orderId);
  await Promise.all(withdrawn.map((w) => releaseRider(deps, w.riderId)));
  return withdrawn;
}

/**
 * A rider who was considering an offer is available again, unless they meanwhile went offline
 * (their own choice stands) or hold an order. The last step only frees a rider still busy, so a
 * rider who signs off while their order is read is left offline. `hasOrder`: whether they hold one,
 * when the caller's statement already said (a rider's pass does); else it is read here.
 */
export async function releaseRider(deps: DispatchDeps, riderId: string, hasOrder?: boolean): Promise<void> {
  // Independent: sent together (auto-pipelining makes them one round trip).
  const [, live] = await Promise.all([createOfferHolds(deps.redis, deps.config.queuePrefix).release(riderId), deps.location.state.get(riderId)]);
  if (live?.status !== 'busy' || (hasOrder ?? (await hasActiveOrder(deps.db, riderId)))) return;
  await deps.location.freeIfBusy(riderId, Date.now());
}
