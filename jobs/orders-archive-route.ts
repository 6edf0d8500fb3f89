import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { archiveRoute, archiveSubject } from '../db/delivery-routes-repository.ts';
import { trackPoints } from '../db/location-history-repository.ts';
import { routeDistanceMeters } from '../domain/location/geo.ts';
import { encodePolyline } from '../domain/location/polyline.ts';
import { defineJob } from './job-definition.ts';

/**
 * On DELIVERED, copies the rider's points from pickup to drop-off out of the 24 h raw history
 * into `delivery_routes`, kept forever: the encoded polyline, the point count, and the settlement
 * distance with fraud-flagged fixes left out.
 */
export const ordersArchiveRoute = defineJob({
  name: 'orders.archive-route',
  queue: 'orders',
  payload: z.object({ orderId: z.string().min(1) }),
  options: { attempts: 8, backoff: { type: 'exponential', delay: 2_000 } },
  async handler({ orderId }, ctx) {
    // The order, its ride's times and its fare in one read; the points in a second; one insert.
    const order = await archiveSubject(ctx.db, orderId);
    if (!order || order.status !== 'DELIVERED' || !order.rider_id || !order.delivered_at) throw new UnrecoverableError(`order ${orderId} is not a delivered order with a rider`);
    const pickedUp = order.picked_up_at ?? order.delivering_at ?? order.created_at;
    const delivered = order.delivered_at;
    // A second either side catches the fixes taken as the buttons were pressed.
    const points = await trackPoints(ctx.db, order.rider_id, pickedUp.getTime() - 1_000, delivered.getTime() + 1_000);
    const archived = await archiveRoute(ctx.db, {
      order_id: orderId,
      rider_id: order.rider_id,
      picked_up_at: pickedUp,
      delivered_at: delivered,
      polyline: encodePolyline(points),
      point_count: points.length,
      flagged_count: points.filter((p) => p.flagged).length,
      settlement_distance_m: Math.round(routeDistanceMeters(points, { excludeFlagged: true })),
      fare: order.fare ?? 0,
    });
    return { archived, points: points.length };
  },
});
