import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { archiveRoute, archiveSubject } from '../db/delivery-routes-repository.ts';
import { trackPoints } from '../db/location-history-repository.ts';
import { routeDistanceMeters } from '../domain/location/geo.ts';
import { encodePolyline } from '../domain/location/polyline.ts';
import { defineJob, type JobContext } from './job-definition.ts';

/**
 * On DELIVERED, copies the rider's points from pickup to drop-off out of the 24 h raw history
 * into `delivery_routes`, kept forever: the encoded polyline, the point count, and the settlement
 * distance with fraud-flagged fixes left out.
 *
 * One job archives the orders one relay batch saw delivered (`orderIds`): at a hot spot's peak
 * orders are delivered by the hundred a minute, and a job each cost four BullMQ scripts (add,
 * promote, start, finish) around its three statements. Each order is still archived once
 * (`archiveRoute` keeps the first), so a job repeated after a crash changes nothing. A job of one
 * `{ orderId }` (enqueued by the previous version) still works, and still fails for good when
 * its order cannot be archived; in a batch such an order is logged and skipped, the others kept.
 */
export const ordersArchiveRoute = defineJob({
  name: 'orders.archive-route',
  queue: 'orders',
  payload: z.union([z.object({ orderId: z.string().min(1) }), z.object({ orderIds: z.array(z.string().min(1)).min(1).max(5_000) })]),
  options: { attempts: 8, backoff: { type: 'exponential', delay: 2_000 } },
  async handler(payload, ctx) {
    if ('orderId' in payload) {
      const result = await archiveOne(payload.orderId, ctx);
      if (result.kind === 'unfit') throw new UnrecoverableError(`order ${payload.orderId} is not a delivered order with a rider`);
      return { archived: result.archived, points: result.points };
    }
    let archived = 0;
    let points = 0;
    for (const orderId of new Set(payload.orderIds)) {
      const result = await archiveOne(orderId, ctx);
      if (result.kind === 'unfit') {
        ctx.logger.warn({ orderId }, 'not a delivered order with a rider: its route is not archived');
        continue;
      }
      archived += result.archived ? 1 : 0;
      points += result.points;
    }
    return { archived, points };
  },
});

async function archiveOne(orderId: string, ctx: JobContext): Promise<{ kind: 'done'; archived: boolean; points: number } | { kind: 'unfit' }> {
  // The order, its ride's times and its fare in one read; the points in a second; one insert.
  const order = await archiveSubject(ctx.db, orderId);
  if (!order || order.status !== 'DELIVERED' || !order.rider_id || !order.delivered_at) return { kind: 'unfit' };
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
  return { kind: 'done', archived, points: points.length };
}
