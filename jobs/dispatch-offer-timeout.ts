import { z } from 'zod';
import { closeOffer } from '../db/dispatch-repository.ts';
import { defineJob } from './job-definition.ts';

/** Fires when a rider let an offer run out (15 s by default): the next rider is asked. */
export const dispatchOfferTimeout = defineJob({
  name: 'dispatch.offer-timeout',
  queue: 'dispatch',
  payload: z.object({ offerId: z.string().min(1) }),
  async handler({ offerId }, ctx) {
    const orderId = await closeOffer(ctx.db, offerId, 'EXPIRED');
    if (orderId) await ctx.queues.get('dispatch').add('dispatch.match', { orderId });
    return { expired: Boolean(orderId) };
  },
});
