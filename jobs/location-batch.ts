import { z } from 'zod';
import type { LocationPoint } from '../domain/location/point.ts';
import { geofenceHits } from '../domain/orders/geofences.ts';
import { checkFraud } from '../location/fraud-check.ts';
import { notify } from '../notifications/notify.ts';
import { fromTuple, pointTuple } from '../location/point-codec.ts';
import { defineJob } from './job-definition.ts';

/**
 * One group commit of rider points, from many riders. Every step is idempotent, so a retry after a
 * crash (or a second worker holding a stalled copy) changes nothing twice: positions move only
 * forward in recordedAt, history ignores points it already has, and findings have unique keys.
 */
export const locationBatch = defineJob({
  name: 'location.batch',
  queue: 'location',
  payload: z.object({ points: z.array(pointTuple).min(1) }),
  async handler({ points }, ctx) {
    const decoded = points.map(fromTuple);
    // Live state first: trackers and dispatch wait on it.
    const moved = await ctx.location.apply(decoded);
    const positions = await ctx.tracking.applyPositions(moved);
    for (const position of positions) {
      for (const hit of geofenceHits({ ...position, rider: position.point })) {
        await notify(ctx, { event: hit.event, recipient: { userId: hit.userId }, channels: ['push'], data: hit.data as never, idempotencyKey: hit.idempotencyKey });
      }
    }
    await ctx.history.write(decoded);
    // The ack time, the same on every retry, judges "in the future".
    const fraud = await checkFraud({ ...ctx, track: ctx.location.track }, byRider(decoded), ctx.job.enqueuedAt);
    return { points: decoded.length, moved: moved.length, ...fraud };
  },
});

function byRider(points: LocationPoint[]): Map<string, LocationPoint[]> {
  const out = new Map<string, LocationPoint[]>();
  for (const p of points) {
    const list = out.get(p.riderId);
    if (list) list.push(p);
    else out.set(p.riderId, [p]);
  }
  return out;
}
