import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { archiveRoutes, archiveSubjects } from '../db/delivery-routes-repository.ts';
import { trackPointsOfRides } from '../db/location-history-repository.ts';
import { routeDistanceMeters } from '../domain/location/geo.ts';
import { encodePolyline } from '../domain/location/polyline.ts';
import { defineJob, type JobContext } from './job-definition.ts';

/**
 * On DELIVERED, copies the rider's points from pickup to drop-off out of the 24 h raw history
 * into `delivery_routes`, kept forever: the encoded polyline, the point count, and the settlement
 * distance with fraud-flagged fixes left out.
 *
 * One job archives the orders one relay batch saw delivered (`orderIds`), with three statements
 * for the whole batch: the orders with their rides' times and fares, every ride's points, and the
 * routes. At a hot spot's peak orders are delivered by the hundred a minute; a job each cost four
 * BullMQ scripts around its statements, and three statements an order cost Postgres more than the
 * batch's three. Each order is still archived once (`archiveRoutes` keeps the first), so a job
 * repeated after a crash changes nothing. A job of one `{ orderId }` (enqueued by the previous
 * version) still works, and still fails for good when its order cannot be archived; in a batch such
 * an order is logged and skipped, the others kept.
 */
export const ordersArchiveRoute = defineJob({
  name: 'orders.archive-route',
  queue: 'orders',
  payload: z.union([z.object({ orderId: z.string().min(1) }), z.object({ orderIds: z.array(z.string().min(1)).min(1).max(5_000) })]),
  options: { attempts: 8, backoff: { type: 'exponential', delay: 2_000 } },
  async handler(payload, ctx) {
    const one = 'orderId' in payload;
    const { archived, points, unfit } = await archive(one ? [payload.orderId] : [...new Set(payload.orderIds)], ctx);
    if (one && unfit.length > 0) throw new UnrecoverableError(`order ${payload.orderId} is not a delivered order with a rider`);
    for (const orderId of unfit) ctx.logger.warn({ orderId }, 'not a delivered order with a rider: its route is not archived');
    return one ? { archived: archived > 0, points } : { archived, points };
  },
});

async function archive(orderIds: readonly string[], ctx: JobContext): Promise<{ archived: number; points: number; unfit: string[] }> {
  const subjects = await archiveSubjects(ctx.db, orderIds);
  const unfit: string[] = [];
  const rides: Array<{ orderId: string; riderId: string; pickedUp: Date; delivered: Date; fare: number }> = [];
  for (const orderId of orderIds) {
    const order = subjects.get(orderId);
    if (!order || order.status !== 'DELIVERED' || !order.rider_id || !order.delivered_at) unfit.push(orderId);
    else rides.push({ orderId, riderId: order.rider_id, pickedUp: order.picked_up_at ?? order.delivering_at ?? order.created_at, delivered: order.delivered_at, fare: order.fare ?? 0 });
  }
  // A second either side catches the fixes taken as the buttons were pressed.
  const tracks = await trackPointsOfRides(ctx.db, rides.map((r) => ({ riderId: r.riderId, from: r.pickedUp.getTime() - 1_000, to: r.delivered.getTime() + 1_000 })));
  const archived = await archiveRoutes(
    ctx.db,
    rides.map((ride, i) => {
      const points = tracks[i]!;
      return {
        order_id: ride.orderId,
        rider_id: ride.riderId,
        picked_up_at: ride.pickedUp,
        delivered_at: ride.delivered,
        polyline: encodePolyline(points),
        point_count: points.length,
        flagged_count: points.filter((p) => p.flagged).length,
        settlement_distance_m: Math.round(routeDistanceMeters(points, { excludeFlagged: true })),
        fare: ride.fare,
      };
    }),
  );
  // Points of the routes archived now (a repeated job's are already counted in the first).
  const points = rides.reduce((sum, ride, i) => sum + (archived.has(ride.orderId) ? tracks[i]!.length : 0), 0);
  return { archived: archived.size, points, unfit };
}
