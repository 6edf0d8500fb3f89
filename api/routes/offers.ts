import { z } from 'zod';
import { getOffer, pendingOffersForRider } from '../../db/dispatch-repository.ts';
import { haversineMeters } from '../../domain/location/geo.ts';
import { acceptAndAssign, closeAndMoveOn, createOfferAcceptor } from '../../dispatch/accept.ts';
import type { DispatchDeps } from '../../dispatch/matcher.ts';
import { conflict, notFound } from '../errors.ts';
import { defineRoute } from '../route.ts';

const offerId = z.object({ id: z.string().min(1).max(64) });

/** A rider's offers: see them, take one, or pass. */
export function offerRoutes(deps: DispatchDeps) {
  // Riders answering together (a hot spot's offers come in waves) share a statement.
  const accept = createOfferAcceptor(deps.db);
  const mine = async (id: string, riderId: string) => {
    const offer = await getOffer(deps.db, id);
    // Someone else's offer looks exactly like a missing one: offer ids say nothing to other riders.
    if (!offer || offer.rider_id !== riderId) throw notFound(`no offer ${id} for you`);
    return offer;
  };
  return [
    defineRoute({
      method: 'get',
      path: '/v1/riders/me/offers',
      roles: ['rider'],
      async handler({ user }) {
        const offers = await pendingOffersForRider(deps.db, user.sub);
        return {
          body: {
            // What a rider decides on: where the pickup is, how far away, how long the delivery
            // leg is and what it pays. The customer's address comes with the order once accepted.
            offers: offers.map((o) => ({
              id: o.id,
              orderId: o.order_id,
              restaurant: { name: o.restaurant_name, lat: o.restaurant_lat, lng: o.restaurant_lng },
              distanceMeters: Math.round(o.distance_m),
              deliveryMeters: Math.round(haversineMeters({ lat: o.restaurant_lat, lng: o.restaurant_lng }, { lat: o.dropoff_lat, lng: o.dropoff_lng })),
              expectedEarning: o.expected_earning,
              expiresAt: o.expires_at.toISOString(),
            })),
          },
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/offers/:id/accept',
      // A hot spot's riders answer a few hundred offers a second: a known rider's answer skips
      // Express (api/fast-lane.ts).
      hot: true,
      roles: ['rider'],
      params: offerId,
      async handler({ user, params }) {
        // The accept statement only touches this rider's offer: no read before it. An offer it did
        // not find (someone else's, or none) is then told apart from one already decided.
        const result = await acceptAndAssign(deps, params.id, user.sub, accept);
        switch (result.kind) {
          case 'accepted':
            return { body: { offerId: params.id, orderId: result.orderId, status: 'ACCEPTED' } };
          case 'not-pending':
            if (result.status === undefined) await mine(params.id, user.sub);
            throw conflict(`the offer is ${result.status ?? 'gone'}, not pending`, { offerStatus: result.status });
          case 'rider-busy':
            throw conflict('you already have an active order; finish it first');
          case 'order-gone':
            throw conflict('the order no longer needs a rider');
        }
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/offers/:id/reject',
      // A hot spot's riders answer a few hundred offers a second: a known rider's answer skips
      // Express (api/fast-lane.ts).
      hot: true,
      roles: ['rider'],
      params: offerId,
      async handler({ user, params }) {
        // Likewise: the reject statement checks the rider; the read only explains a refusal.
        const orderId = await closeAndMoveOn(deps, params.id, 'REJECTED', user.sub);
        if (!orderId) {
          const offer = await mine(params.id, user.sub);
          throw conflict(`the offer is ${offer.status === 'PENDING' ? 'EXPIRED' : offer.status}, not pending`, { offerStatus: offer.status });
        }
        return { body: { offerId: params.id, status: 'REJECTED' } };
      },
    }),
  ];
}
