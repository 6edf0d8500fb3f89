import { z } from 'zod';
import { expireGroupOrder } from '../group-orders/close.ts';
import { groupOrderDepsFromJob } from '../group-orders/job-deps.ts';
import { defineJob } from './job-definition.ts';

/**
 * Delayed by the group's expiry (30 min by default) with the group id as job id: an unmatched group
 * is cancelled, its hold released and its creator told. Carries the drop-off so an entry left by a
 * group that never committed can still be unlisted.
 */
export const groupOrderExpire = defineJob({
  name: 'group-orders.expire',
  queue: 'groupOrders',
  payload: z.object({ groupOrderId: z.string().min(1).max(64), lat: z.number().optional(), lng: z.number().optional() }),
  async handler(payload, ctx) {
    const result = await expireGroupOrder(groupOrderDepsFromJob(ctx), payload);
    return { outcome: result.kind };
  },
});
