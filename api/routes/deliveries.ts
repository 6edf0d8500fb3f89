import type { Knex } from 'knex';
import { z } from 'zod';
import { deliveriesOf, routeOf } from '../../db/delivery-routes-repository.ts';
import { getOrder } from '../../db/orders-repository.ts';
import { decodePolyline } from '../../domain/location/polyline.ts';
import { isOrderParty } from '../../domain/orders/parties.ts';
import { ROLES } from '../../domain/roles.ts';
import { forbidden, notFound } from '../errors.ts';
import { defineRoute } from '../route.ts';

/** Archived delivery routes: the settlement record, kept forever. */
export function deliveryRoutes(deps: { db: Knex }) {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/orders/:id/route',
      roles: ROLES,
      params: z.object({ id: z.string().min(1).max(64) }),
      async handler({ params, user }) {
        const order = await getOrder(deps.db, params.id);
        if (!order) throw notFound(`no order ${params.id}`);
        if (!isOrderParty({ customerId: order.customer_id, coCustomerId: order.co_customer_id, restaurantId: order.restaurant_id, riderId: order.rider_id }, user)) throw forbidden('this order is not yours to read');
        const route = await routeOf(deps.db, params.id);
        if (!route) throw notFound(order.status === 'DELIVERED' ? 'the route is being archived; try again in a few seconds' : 'routes are archived when the order is delivered');
        return {
          body: {
            orderId: route.order_id,
            riderId: route.rider_id,
            pickedUpAt: route.picked_up_at.toISOString(),
            deliveredAt: route.delivered_at.toISOString(),
            polyline: route.polyline,
            points: decodePolyline(route.polyline),
            pointCount: route.point_count,
            flaggedCount: route.flagged_count,
            settlementDistanceMeters: route.settlement_distance_m,
          },
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/riders/me/deliveries',
      roles: ['rider'],
      query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
      async handler({ user, query }) {
        const rows = await deliveriesOf(deps.db, user.sub, query.limit);
        return {
          body: {
            deliveries: rows.map((r) => ({
              orderId: r.order_id,
              fare: r.fare,
              distanceMeters: r.settlement_distance_m,
              durationSeconds: Math.round((r.delivered_at.getTime() - r.picked_up_at.getTime()) / 1_000),
              deliveredAt: r.delivered_at.toISOString(),
            })),
          },
        };
      },
    }),
  ];
}
