import { z } from 'zod';
import { matchOrder, type MatchStep } from '../dispatch/matcher.ts';
import { defineJob } from './job-definition.ts';

/** Offers an order to the next best rider (or widens the search, or gives up and tells people). */
export const dispatchMatch = defineJob({
  name: 'dispatch.match',
  queue: 'dispatch',
  // `near`: where the restaurant is, when the enqueuer knew (the first step), so the first search can start at once.
  payload: z.object({ orderId: z.string().min(1), near: z.object({ lat: z.number().min(-90).max(90), lng: z.number().min(-180).max(180) }).optional() }),
  async handler({ orderId, near }, ctx) {
    const started = Date.now();
    const steps: Partial<Record<MatchStep, number>> = {};
    const { db, redis, queues, config, location, tracking, dispatchBatches } = ctx;
    const outcome = await matchOrder({ db, redis, queues, config, location, tracking, trace: steps, ...(dispatchBatches && { batches: dispatchBatches }) }, orderId, ctx.job.enqueuedAt, near);
    // Kept with the job (and in its completed event): time waiting in the queue (delay included)
    // against time spent matching, which tells a backlog from a slow step, and that time by step.
    return { outcome, queuedMs: started - ctx.job.enqueuedAt, tookMs: Date.now() - started, steps: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, Math.round(v)])) };
  },
});
