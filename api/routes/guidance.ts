import type { Knex } from 'knex';
import { z } from 'zod';
import { getOrder } from '../../db/orders-repository.ts';
import { isOrderParty } from '../../domain/orders/parties.ts';
import { ROLES } from '../../domain/roles.ts';
import type { LiveLocation } from '../../location/live-location.ts';
import { planGuidance } from '../../orders/guidance.ts';
import type { RoutePlanner } from '../../orders/route-planner.ts';
import { forbidden, notFound } from '../errors.ts';
import { defineRoute } from '../route.ts';

/**
 * `GET /v1/orders/:id/guidance`: the route the rider should take now, by road when OSRM is
 * configured (`source: "osrm"`), else straight lines. Read when the rider opens navigation, not
 * streamed, so it costs a routing request only when someone looks.
 */
export function guidanceRoutes(deps: { db: Knex; location: LiveLocation; planner: RoutePlanner }) {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/orders/:id/guidance',
      roles: ROLES,
      params: z.object({ id: z.string().min(1).max(64) }),
      async handler({ user, params }) {
        const order = await getOrder(deps.db, params.id);
        if (!order) throw notFound(`no order ${params.id}`);
        if (!isOrderParty({ customerId: order.customer_id, coCustomerId: order.co_customer_id, restaurantId: order.restaurant_id, riderId: order.rider_id }, user)) throw forbidden('this order is not yours to read');
        const [motion] = order.rider_id ? await deps.location.state.motion([order.rider_id]) : [undefined];
        const legs = await planGuidance(deps.planner, {
          status: order.status,
          rider: motion ? { lat: motion.lat, lng: motion.lng } : null,
          riderSpeed: motion?.speedEwma ?? null,
          restaurant: { lat: order.restaurant_lat, lng: order.restaurant_lng },
          dropoff: { lat: order.dropoff_lat, lng: order.dropoff_lng },
        });
        return {
          body: {
            orderId: order.id,
            status: order.status,
            durationSeconds: legs.reduce((s, l) => s + l.durationSeconds, 0),
            distanceMeters: legs.reduce((s, l) => s + l.distanceMeters, 0),
            legs,
          },
        };
      },
    }),
  ];
}
