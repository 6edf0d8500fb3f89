import { z } from 'zod';
import { fromTuple, pointTuple } from '../location/point-codec.ts';
import { defineJob } from './job-definition.ts';

/**
 * One group commit of rider points, from many riders. Every step is idempotent, so a retry after a
 * crash (or a second worker holding a stalled copy) changes nothing twice: positions move only
 * forward in recordedAt, and history ignores points it already has.
 */
export const locationBatch = defineJob({
  name: 'location.batch',
  queue: 'location',
  payload: z.object({ points: z.array(pointTuple).min(1) }),
  async handler({ points }, ctx) {
    const decoded = points.map(fromTuple);
    // Live state first: trackers and dispatch wait on it; history can follow a few ms later.
    const moved = await ctx.location.apply(decoded);
    return { points: decoded.length, moved: moved.length };
  },
});
