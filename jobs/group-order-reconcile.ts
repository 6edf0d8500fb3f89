import { z } from 'zod';
import { overdueOpenGroups } from '../db/group-orders-repository.ts';
import { expireGroupOrder } from '../group-orders/close.ts';
import { groupOrderDepsFromJob } from '../group-orders/job-deps.ts';
import { defineJob } from './job-definition.ts';

/**
 * The safety net behind the delayed expiry jobs: open groups past their expiry by the grace period
 * (their job was lost with Redis, or failed for good) are expired here, exactly as the job would.
 */
export const groupOrderReconcile = defineJob({
  name: 'group-orders.reconcile',
  queue: 'groupOrders',
  payload: z.object({ batch: z.number().int().min(1).max(5_000).default(500) }),
  options: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
  async handler({ batch }, ctx) {
    const deps = groupOrderDepsFromJob(ctx);
    const ids = await overdueOpenGroups(ctx.db, ctx.config.groupOrders.reconcileGraceMs, batch);
    let expired = 0;
    for (const id of ids) if ((await expireGroupOrder(deps, { groupOrderId: id })).kind === 'expired') expired++;
    if (expired > 0) ctx.logger.info({ expired }, 'expired group orders whose expiry job was missing');
    return { overdue: ids.length, expired };
  },
});
