import { z } from 'zod';
import { closeAndMoveOn } from '../dispatch/accept.ts';
import { expireAndMoveOn } from '../dispatch/offer-timeouts.ts';
import { defineJob } from './job-definition.ts';

/**
 * Fires when riders let offers run out (15 s by default): each order whose offer is still pending
 * goes to its next rider. `offerIds`: the offers a matching batch made together, one delayed job
 * for all of them (dispatch/offer-timeouts.ts); `offerId`: one offer (jobs enqueued before offers
 * were grouped, still honoured).
 */
export const dispatchOfferTimeout = defineJob({
  name: 'dispatch.offer-timeout',
  queue: 'dispatch',
  payload: z
    .object({ offerId: z.string().min(1).optional(), offerIds: z.array(z.string().min(1)).min(1).max(1_000).optional() })
    .refine((p) => p.offerId !== undefined || p.offerIds !== undefined, { message: 'offerId or offerIds is required', path: ['offerIds'] }),
  async handler({ offerId, offerIds }, ctx) {
    if (offerIds) return { expired: (await expireAndMoveOn(ctx, offerIds)).length };
    const orderId = await closeAndMoveOn(ctx, offerId!, 'EXPIRED');
    return { expired: orderId ? 1 : 0 };
  },
});
