import { z } from 'zod';
import { activeOrdersForEta, updateEtas } from '../db/orders-repository.ts';
import { ETA_CHANGE_MS, estimateArrival } from '../domain/orders/eta.ts';
import { defineJob } from './job-definition.ts';

/**
 * Recomputes the ETA of open orders from where their riders are and how fast they have been
 * riding. Only changes of 30 s or more are stored and pushed to trackers, so a steady ride does not
 * flood anyone. Runs every 20 s (schedulers/definitions.ts).
 */
export const ordersRefreshEta = defineJob({
  name: 'orders.refresh-eta',
  queue: 'orders',
  payload: z.object({ limit: z.number().int().min(1).max(50_000).default(5_000) }),
  options: { attempts: 1, removeOnComplete: { count: 20 }, removeOnFail: { count: 100 } },
  async handler({ limit }, ctx) {
    const orders = await activeOrdersForEta(ctx.db, limit);
    const motion = await ctx.location.state.motion(orders.map((o) => o.rider_id ?? ''));
    const now = Date.now();
    const changed: Array<{ id: string; etaAt: Date }> = [];
    orders.forEach((order, i) => {
      const rider = order.rider_id ? motion[i] : undefined;
      const eta = estimateArrival({
        status: order.status,
        now,
        cookReadyAt: order.cook_ready_at?.getTime() ?? null,
        rider: rider ?? null,
        riderSpeed: rider?.speedEwma ?? null,
        restaurant: { lat: order.restaurant_lat, lng: order.restaurant_lng },
        dropoff: { lat: order.dropoff_lat, lng: order.dropoff_lng },
      });
      if (eta !== null && Math.abs(eta - (order.eta_at?.getTime() ?? 0)) >= ETA_CHANGE_MS) changed.push({ id: order.id, etaAt: new Date(eta) });
    });
    await updateEtas(ctx.db, changed);
    await Promise.all(changed.map((c) => ctx.tracking.updateEta(c.id, c.etaAt.toISOString())));
    return { checked: orders.length, changed: changed.length };
  },
});
