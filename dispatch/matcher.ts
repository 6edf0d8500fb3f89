import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Knex } from 'knex';
import { failDispatch, nextRound, type MatchSubject } from '../db/dispatch-repository.ts';
import { DEFAULT_MAX_DISTANCE_M } from '../db/rider-profiles-repository.ts';
import { insertDeliveries } from '../db/notification-deliveries-repository.ts';
import { getOrder } from '../db/orders-repository.ts';
import { acceptanceRate, expectedEarning, rankCandidates, type Candidate } from '../domain/dispatch/ranking.ts';
import { haversineMeters } from '../domain/location/geo.ts';
import type { LiveLocation } from '../location/live-location.ts';
import type { OrderTracking } from '../location/order-tracking.ts';
import { deliveryRows, notify, type NotifyInput } from '../notifications/notify.ts';
import type { Config } from '../runtime/config.ts';
import type { QueueSet } from '../runtime/queues.ts';
import { acceptAndAssign } from './accept.ts';
import { dispatchKeys } from './candidate-facts.ts';
import type { Candidates } from './candidate-search.ts';
import { createMatchBatches, type MatchBatches } from './match-batches.ts';
import { createOfferHolds } from './offer-holds.ts';

export interface DispatchDeps {
  db: Knex;
  /** Producer connection: riders' offer holds live here. */
  redis: Redis;
  queues: QueueSet;
  config: Config;
  location: LiveLocation;
  tracking: OrderTracking;
  /** When given, each step of a match adds the milliseconds it took (see {@link MatchStep}). */
  trace?: Partial<Record<MatchStep, number>>;
  /** The worker's shared round trips (dispatch/match-batches.ts); without them a match's are its own. */
  batches?: MatchBatches;
}

const batchesOf = (deps: DispatchDeps) => deps.batches ?? createMatchBatches(deps);

/**
 * The steps of a match, one after another: opening the dispatch (Postgres), the search for
 * available riders (the geo index and each one's status) with the candidates' facts (`facts` is no
 * longer a step of its own: the search reads them in the same round trip), the claim of the best free rider, the offer's statement
 * (Postgres; its row is the "first offer"), and what follows the offer (rider busy, profile,
 * push and timeout jobs).
 */
export type MatchStep = 'open' | 'search' | 'facts' | 'claim' | 'offer' | 'after';

async function step<T>(deps: DispatchDeps, name: MatchStep, run: () => Promise<T>): Promise<T> {
  if (!deps.trace) return run();
  const started = performance.now();
  try {
    return await run();
  } finally {
    deps.trace[name] = (deps.trace[name] ?? 0) + (performance.now() - started);
  }
}

/**
 * Where to look, nearest first: within 1 km (a few geo cells), then the whole radius, then deeper
 * in it. Ranking goes by 200 m bands first, so a free rider found in a smaller circle is also the
 * best in the larger one, and most orders never pay for the wide search.
 */
const SEARCHES = [
  { radiusMeters: 1_000, depth: 50 },
  { radiusMeters: Infinity, depth: 50 },
  { radiusMeters: Infinity, depth: 400 },
];

/**
 * A search stops once this many riders found look eligible, at the end of their ranking band
 * (dispatch/candidate-search.ts): the best of them is the one ranking would pick from all `depth`,
 * and the others stand by should another order claim it first. At a hot spot this reads a band or
 * two of riders instead of 50.
 */
const CUT = { eligible: 3 };

/** The first search, started before the dispatch was opened, and what it was asked. */
interface EarlySearch {
  lat: number;
  lng: number;
  radiusMeters: number;
  found: Promise<Candidates>;
}

/**
 * A widened round waits behind every other match that is due (BullMQ takes a job without a
 * priority before any job with one). Its order found no free rider last time and has waited
 * seconds already; a new order's first offer, or the next rider for one just turned down, has
 * a quarter of a second. At a hot spot out of riders thousands of orders go round after round,
 * and in the order they fell due they held every new order's first match behind them in the queue
 * (bench/dispatch with riders staying busy: a queue wait of 1.9 s p99). Under a sustained
 * backlog the rounds run later than their backoff says, which only stretches the wait of orders
 * that have no rider anyway.
 */
export const WIDENED_ROUND_PRIORITY = 10;

export type MatchOutcome = 'offered' | 'auto-accepted' | 'waiting' | 'retry-later' | 'failed' | 'done';

/**
 * One step of dispatch: offer the order to the best rider not yet asked. Sequential: while an
 * offer is pending nothing else happens; a reject or a timeout calls this again. After
 * `offersPerRound` offers (or no candidate) the radius widens and the search waits, doubling the
 * wait each round; after the last round ops and the customer are told.
 */
export async function matchOrder(deps: DispatchDeps, orderId: string, requestedAt?: number, near?: { lat: number; lng: number }): Promise<MatchOutcome> {
  const { config } = deps;
  deps = { ...deps, batches: batchesOf(deps) };
  // Told where the restaurant is, the first search goes alongside opening the dispatch (one round
  // trip less before the first offer); it is used only if the order turns out to be there.
  const first = SEARCHES[0]!;
  const early = near && { ...near, radiusMeters: Math.min(first.radiusMeters, config.dispatch.radiusMeters), found: deps.batches!.search(orderId, { lat: near.lat, lng: near.lng, radiusMeters: Math.min(first.radiusMeters, config.dispatch.radiusMeters), limit: first.depth, now: Date.now() }, CUT) };
  early?.found.catch(() => {});
  const subject = await step(deps, 'open', () => deps.batches!.open({ orderId, radiusMeters: config.dispatch.radiusMeters, ...(requestedAt !== undefined && { requestedAt: new Date(requestedAt) }) }));
  // No such order, or it has ended or found its rider.
  const dispatch = subject?.dispatch;
  if (!subject || !dispatch) return 'done';
  if (dispatch.status === 'ASSIGNED' || dispatch.status === 'FAILED' || dispatch.status === 'CANCELLED') return 'done';
  if (dispatch.status === 'OFFERED') return 'waiting';
  if (dispatch.offers_in_round < config.dispatch.offersPerRound) {
    const outcome = await offerNext(deps, subject.order, dispatch.radius_m, early);
    if (outcome) return outcome;
  }
  return endRound(deps, orderId, dispatch.round, dispatch.radius_m);
}

/** Offers the order to the best free rider within `radius`; undefined when there is none. */
async function offerNext(deps: DispatchDeps, order: MatchSubject['order'], radius: number, early?: EarlySearch): Promise<MatchOutcome | undefined> {
  const { config } = deps;
  const batches = deps.batches!;
  const restaurant = { name: order.restaurant_name, lat: order.restaurant_lat, lng: order.restaurant_lng };
  const delivery = haversineMeters(restaurant, { lat: order.dropoff_lat, lng: order.dropoff_lng });
  let searched = { radiusMeters: 0, depth: 0, exhausted: false };
  // A widened round reaches no farther than any rider will ride to a pickup: riders beyond that are
  // all left out by ranking, and when a hot spot has run out of riders every order's widened rounds
  // would otherwise read hundreds of them for nothing (bench/dispatch with riders staying busy).
  const reach = radius > DEFAULT_MAX_DISTANCE_M ? Math.min(radius, await batches.farthestPickup()) : radius;
  for (const search of SEARCHES) {
    const radiusMeters = Math.min(search.radiusMeters, reach);
    const { depth } = search;
    // The last search already saw everyone this one would.
    if (radiusMeters <= searched.radiusMeters && (searched.exhausted || depth <= searched.depth)) continue;
    const started = early && early.lat === restaurant.lat && early.lng === restaurant.lng && early.radiusMeters === radiusMeters && depth === SEARCHES[0]!.depth ? early.found : undefined;
    early = undefined;
    // The riders available with a fresh position, nearest first, and what ranking and filtering need
    // of each (profile, asked before, fraud suspension, considering another offer): on one Redis a
    // single script that searches the cells, checks each candidate's status and reads their facts
    // (dispatch/candidate-search.ts), so the dozens of candidates a hot spot turns up cost no
    // command each and one round trip in all.
    const { riders: found, facts: known, cut } = await step(deps, 'search', () => started ?? batches.search(order.id, { lat: restaurant.lat, lng: restaurant.lng, radiusMeters, limit: depth, now: Date.now() }, CUT));
    // Fewer than asked, and not because the search stopped early: there is nobody else in reach.
    searched = { radiusMeters, depth, exhausted: !cut && found.length < depth };
    const ranked = rankCandidates(
      found.flatMap((r) => {
        const f = known.get(r.riderId);
        if (!f || f.asked || f.suspended || f.held) return [];
        return [{ riderId: r.riderId, distanceMeters: r.distanceMeters, maxDistanceMeters: f.maxDistanceMeters, autoAccept: f.autoAccept, acceptanceRate: acceptanceRate(f.offersReceived, f.offersAccepted) }];
      }),
    );
    const byId = new Map(ranked.map((c) => [c.riderId, c]));
    const left = ranked.map((c) => c.riderId);
    while (left.length > 0) {
      // Another order may have claimed some of them since they were read: take the best still free.
      const claimed = await step(deps, 'claim', () => batches.claim(order.id, left));
      if (!claimed) break;
      left.splice(0, left.indexOf(claimed) + 1);
      const outcome = await offer(deps, order, restaurant.name, byId.get(claimed)!, delivery, radius);
      // The database knows of a pending offer the holds had lost: the hold now covers it; next.
      if (outcome !== 'rider-has-offer') return outcome;
    }
  }
  return undefined;
}

async function offer(deps: DispatchDeps, order: MatchSubject['order'], restaurantName: string, candidate: Candidate, deliveryMeters: number, radiusMeters: number): Promise<MatchOutcome | 'rider-has-offer'> {
  const { db, config } = deps;
  const offer = {
    id: `off_${randomUUID().replaceAll('-', '').slice(0, 20)}`,
    order_id: order.id,
    rider_id: candidate.riderId,
    distance_m: candidate.distanceMeters,
    expected_earning: expectedEarning(candidate.distanceMeters, deliveryMeters),
    expires_at: new Date(Date.now() + config.dispatch.offerTimeoutMs),
  };
  const push: NotifyInput<'dispatch.offer'> = {
    event: 'dispatch.offer',
    recipient: { userId: candidate.riderId },
    channels: ['push'],
    data: { offerId: offer.id, orderId: order.id, restaurantName, distanceMeters: Math.round(candidate.distanceMeters), expectedEarning: offer.expected_earning, expiresInSeconds: Math.ceil(config.dispatch.offerTimeoutMs / 1_000) },
    idempotencyKey: `offer:${offer.id}`,
  };
  // The push's delivery record goes into the offer's own statement (a rider who auto-accepts gets
  // no offer push): the notification reconciler enqueues it should this process stop before it does.
  const pushRow = deliveryRows(push)[0]!;
  const created = await step(deps, 'offer', () => deps.batches!.offer({ offer, radiusMeters, ...(!candidate.autoAccept && { push: pushRow }) }));
  if (created.kind === 'rider-has-offer') {
    // Not asked for this order after all; the hold now stands for the offer the database knows of.
    await deps.redis.srem(dispatchKeys(config.queuePrefix).asked(order.id), candidate.riderId).catch(() => 0);
    return created.kind;
  }
  // Another step of this dispatch made an offer first (a reject and a timeout racing): it stands.
  if (created.kind === 'order-has-offer') {
    await createOfferHolds(deps.redis, config.queuePrefix).release(candidate.riderId, order.id).catch(() => {});
    return 'waiting';
  }
  if (candidate.autoAccept) {
    const accepted = await acceptAndAssign(deps, offer.id, candidate.riderId);
    if (accepted.kind === 'accepted') return 'auto-accepted';
    // Not taken after all (the rider meanwhile holds an order): an ordinary offer it stays.
    await insertDeliveries(db, [pushRow]);
  }
  // The profile, the busy status, the push and the timeout: shared with the other offers made at once.
  await step(deps, 'after', () => deps.batches!.offered({ offerId: offer.id, riderId: candidate.riderId, profile: created.profile, push: pushRow }));
  return 'offered';
}

async function endRound(deps: DispatchDeps, orderId: string, round: number, radius: number): Promise<MatchOutcome> {
  const { db, config } = deps;
  if (round >= config.dispatch.rounds) {
    if (await failDispatch(db, orderId, `no rider accepted within ${radius} m after ${round} rounds`)) {
      await Promise.all([
        ...config.opsUserIds.map((userId) =>
          notify(deps, {
            event: 'ops.dispatch_failed',
            recipient: { userId },
            channels: ['push'],
            data: { orderId, attempts: round * config.dispatch.offersPerRound, reason: `no rider within ${radius} m` },
            idempotencyKey: `dispatch-failed:${orderId}`,
          }),
        ),
        getOrder(db, orderId).then((order) =>
          notify(deps, { event: 'order.no_rider', recipient: { userId: order!.customer_id }, channels: ['push'], data: { orderId }, idempotencyKey: `dispatch-failed:${orderId}` }),
        ),
      ]);
    }
    return 'failed';
  }
  const wider = Math.round(radius * 1.5);
  await nextRound(db, orderId, wider);
  await deps.queues.get('dispatch').add('dispatch.match', { orderId }, { delay: config.dispatch.retryMs * 2 ** (round - 1), jobId: `match-${orderId}-r${round + 1}`, priority: WIDENED_ROUND_PRIORITY });
  return 'retry-later';
}
