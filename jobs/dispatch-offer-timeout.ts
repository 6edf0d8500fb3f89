import { z } from 'zod';
import { closeAndMoveOn } from '../dispatch/accept.ts';
import { defineJob } from './job-definition.ts';

/** Fires when a rider let an offer run out (15 s by default): the next rider is asked. */
export const dispatchOfferTimeout = defineJob({
  name: 'dispatch.offer-timeout',
  queue: 'dispatch',
  payload: z.object({ offerId: z.string().min(1) }),
  async handler({ offerId }, ctx) {
    const orderId = await closeAndMoveOn(ctx, offerId, 'EXPIRED');
    return { expired: Boolean(orderId) };
  },
});
