import { z } from 'zod';
import { sweepOverdueOffers } from '../dispatch/offer-timeouts.ts';
import { defineJob } from './job-definition.ts';

/**
 * Every 30 s: offers that ran out more than `graceMs` ago and are still pending, because their
 * delayed timeout job was never added (the worker stopped between the offers and the job) or was
 * lost with Redis. Without this such an order would wait on its rider's answer forever, and the
 * rider's app would show an offer nobody can accept. The grace leaves the job, late on a busy
 * worker, time to do it first.
 */
export const dispatchOfferSweep = defineJob({
  name: 'dispatch.offer-sweep',
  queue: 'dispatch',
  payload: z.object({ graceMs: z.number().int().min(0).default(30_000), limit: z.number().int().min(1).max(1_000).default(500) }),
  options: { attempts: 1, removeOnComplete: { count: 50 }, removeOnFail: { count: 100 } },
  async handler(payload, ctx) {
    const orderIds = await sweepOverdueOffers(ctx, payload);
    if (orderIds.length > 0) ctx.logger.warn({ count: orderIds.length, orderIds: orderIds.slice(0, 20) }, 'expired offers whose timeout job never ran');
    return { expired: orderIds.length };
  },
});
