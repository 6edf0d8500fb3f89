import { z } from 'zod';
import { openOrdersPage } from '../db/orders-repository.ts';
import type { StatusChange } from '../domain/orders/status-notifications.ts';
import { statusChangeMessage } from '../orders/outbox-messages.ts';
import { defineJob } from './job-definition.ts';

/**
 * Puts every open order back into Redis where Redis lost it (a fresh Redis after a failover, a
 * deploy onto an empty one): the ETA index the refresh pages through, the tracking view reads are
 * served from, and the rider's link to the order. The relay only writes these on a status change,
 * so without this an order that is already under way would never have its ETA refreshed or be
 * trackable again. Runs on the maintenance queue every minute (schedulers/definitions.ts); when
 * nothing is missing it is a paged read of open orders and one Redis pipeline per page.
 */
export const ordersReindexActive = defineJob({
  name: 'orders.reindex-active',
  queue: 'maintenance',
  payload: z.object({ page: z.number().int().min(1).max(10_000).default(500) }),
  options: { attempts: 3, removeOnComplete: { count: 20 }, removeOnFail: { count: 100 } },
  async handler({ page }, ctx) {
    let checked = 0;
    let restored = 0;
    let after: { createdAt: Date; id: string } | undefined;
    for (;;) {
      const orders = await openOrdersPage(ctx.db, after, page);
      if (orders.length === 0) break;
      const changes = orders.map(
        (o) => statusChangeMessage(o, { name: o.restaurant_name, lat: o.restaurant_lat, lng: o.restaurant_lng }, null, [{ quantity: o.item_count }], null).payload as unknown as StatusChange,
      );
      restored += await ctx.tracking.restore(changes);
      checked += orders.length;
      const last = orders[orders.length - 1]!;
      after = { createdAt: last.created_at, id: last.id };
      if (orders.length < page) break;
    }
    if (restored > 0) ctx.logger.info({ checked, restored }, 'open orders put back into the Redis tracking state');
    return { checked, restored };
  },
});
