import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { createOffer, ensureDispatch, failDispatch, nextRound, offeredRiders, riderProfiles } from '../db/dispatch-repository.ts';
import { suspendedRiders } from '../db/fraud-alerts-repository.ts';
import { getOrder } from '../db/orders-repository.ts';
import { getRestaurant } from '../db/restaurants-repository.ts';
import { acceptanceRate, expectedEarning, rankCandidates } from '../domain/dispatch/ranking.ts';
import { haversineMeters } from '../domain/location/geo.ts';
import { TERMINAL } from '../domain/orders/state-machine.ts';
import type { LiveLocation } from '../location/live-location.ts';
import type { OrderTracking } from '../location/order-tracking.ts';
import { notify } from '../notifications/notify.ts';
import type { Config } from '../runtime/config.ts';
import type { QueueSet } from '../runtime/queues.ts';
import { acceptAndAssign } from './accept.ts';

export interface DispatchDeps {
  db: Knex;
  queues: QueueSet;
  config: Config;
  location: LiveLocation;
  tracking: OrderTracking;
}

/** How long a critical fraud finding keeps a rider out of dispatch. */
const SUSPENSION_MS = 30 * 60_000;

export type MatchOutcome = 'offered' | 'auto-accepted' | 'waiting' | 'retry-later' | 'failed' | 'done';

/**
 * One step of dispatch: offer the order to the best rider not yet asked. Sequential: while an
 * offer is pending nothing else happens; a reject or a timeout calls this again. After
 * `offersPerRound` offers (or no candidate) the radius widens and the search waits, doubling the
 * wait each round; after the last round ops and the customer are told.
 */
export async function matchOrder(deps: DispatchDeps, orderId: string): Promise<MatchOutcome> {
  const { db, config } = deps;
  const order = await getOrder(db, orderId);
  if (!order || order.rider_id || TERMINAL.has(order.status)) return 'done';
  const dispatch = await ensureDispatch(db, orderId, config.dispatch.radiusMeters);
  if (dispatch.status === 'ASSIGNED' || dispatch.status === 'FAILED' || dispatch.status === 'CANCELLED') return 'done';
  if (dispatch.status === 'OFFERED') return 'waiting';
  const restaurant = (await getRestaurant(db, order.restaurant_id))!;
  if (dispatch.offers_in_round < config.dispatch.offersPerRound) {
    const asked = await offeredRiders(db, orderId);
    const found = await deps.location.nearby({ lat: restaurant.lat, lng: restaurant.lng, radiusMeters: dispatch.radius_m, limit: 50, now: Date.now() });
    // A rider with a critical GPS-fraud finding in the last half hour is not offered work.
    const suspended = await suspendedRiders(db, found.map((r) => r.riderId), new Date(Date.now() - SUSPENSION_MS));
    const nearby = found.filter((r) => !asked.has(r.riderId) && !suspended.has(r.riderId));
    const profiles = await riderProfiles(db, nearby.map((r) => r.riderId));
    const ranked = rankCandidates(
      nearby.map((r) => {
        const p = profiles.get(r.riderId)!;
        return { riderId: r.riderId, distanceMeters: r.distanceMeters, maxDistanceMeters: p.max_distance_m, autoAccept: p.auto_accept, acceptanceRate: acceptanceRate(p.offers_received, p.offers_accepted) };
      }),
    );
    const delivery = haversineMeters(restaurant, { lat: order.dropoff_lat, lng: order.dropoff_lng });
    for (const candidate of ranked) {
      const offer = {
        id: `off_${randomUUID().replaceAll('-', '').slice(0, 20)}`,
        order_id: orderId,
        rider_id: candidate.riderId,
        distance_m: candidate.distanceMeters,
        expected_earning: expectedEarning(candidate.distanceMeters, delivery),
        expires_at: new Date(Date.now() + config.dispatch.offerTimeoutMs),
      };
      // False: the rider is considering another order's offer right now; try the next one.
      if (!(await createOffer(db, offer))) continue;
      if (candidate.autoAccept && (await acceptAndAssign(deps, offer.id, candidate.riderId)).kind === 'accepted') return 'auto-accepted';
      await notify(deps, {
        event: 'dispatch.offer',
        recipient: { userId: candidate.riderId },
        channels: ['push'],
        data: { offerId: offer.id, orderId, restaurantName: restaurant.name, distanceMeters: Math.round(candidate.distanceMeters), expectedEarning: offer.expected_earning, expiresInSeconds: Math.ceil(config.dispatch.offerTimeoutMs / 1_000) },
        idempotencyKey: `offer:${offer.id}`,
      });
      await deps.queues.get('dispatch').add('dispatch.offer-timeout', { offerId: offer.id }, { jobId: offer.id, delay: config.dispatch.offerTimeoutMs });
      return 'offered';
    }
  }
  return endRound(deps, orderId, dispatch.round, dispatch.radius_m);
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
  await deps.queues.get('dispatch').add('dispatch.match', { orderId }, { delay: config.dispatch.retryMs * 2 ** (round - 1), jobId: `match-${orderId}-r${round + 1}` });
  return 'retry-later';
}
