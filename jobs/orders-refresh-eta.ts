import { z } from 'zod';
import { updateEtas } from '../db/orders-repository.ts';
import type { LatLng } from '../domain/location/geo.ts';
import { ETA_CHANGE_MS, estimateArrival, etaLegs } from '../domain/orders/eta.ts';
import type { EtaSubject } from '../location/order-tracking.ts';
import { createRoutePlanner, type RoutePlanner } from '../orders/route-planner.ts';
import { defineJob, type JobContext } from './job-definition.ts';

/** Routing-engine requests in flight at once during a refresh. */
const ROUTE_CONCURRENCY = 16;

/**
 * Recomputes the ETA of active orders from where their riders are and how fast they have been
 * riding (or, with OSRM configured, how long the roads take). The orders come from the Redis index
 * the tracking view keeps (least recently refreshed first, in pages), so a run at peak reads no
 * Postgres; only changes of 30 s or more are written back and pushed to trackers, so a steady ride
 * does not flood anyone. Runs every 20 s (schedulers/definitions.ts).
 */
export const ordersRefreshEta = defineJob({
  name: 'orders.refresh-eta',
  queue: 'orders',
  payload: z.object({ limit: z.number().int().min(1).max(1_000_000).default(100_000), page: z.number().int().min(1).max(10_000).default(1_000) }),
  options: { attempts: 1, removeOnComplete: { count: 20 }, removeOnFail: { count: 100 } },
  async handler({ limit, page }, ctx) {
    const started = Date.now();
    const planner = createRoutePlanner({ osrmUrl: ctx.config.routing.osrmUrl, timeoutMs: ctx.config.routing.timeoutMs, logger: ctx.logger });
    let checked = 0;
    let changed = 0;
    while (checked < limit) {
      // Orders refreshed in this run score later than `started`, so each page is new work.
      const due = await ctx.tracking.dueForEta(started, Math.min(page, limit - checked));
      if (due.scanned === 0) break;
      changed += await refreshPage(due.orders, planner, ctx);
      await ctx.tracking.markRefreshed(due.orders.map((o) => o.orderId), Date.now());
      checked += due.scanned;
    }
    return { checked, changed };
  },
});

async function refreshPage(orders: EtaSubject[], planner: RoutePlanner, ctx: JobContext): Promise<number> {
  const motion = await ctx.location.state.motion(orders.map((o) => o.riderId ?? ''));
  const now = Date.now();
  const inputs = orders.map((order, i) => {
    const rider = order.riderId ? motion[i] : undefined;
    return { order, rider: rider ? { lat: rider.lat, lng: rider.lng } : null, speed: rider?.speedEwma ?? null };
  });
  const legs = planner.routed ? await roadLegs(inputs, planner) : inputs.map(() => undefined);
  const changes: Array<{ id: string; etaAt: Date }> = [];
  inputs.forEach(({ order, rider, speed }, i) => {
    const eta = estimateArrival({ status: order.status, now, cookReadyAt: order.cookReadyAt, rider, riderSpeed: speed, restaurant: order.restaurant, dropoff: order.dropoff, legs: legs[i] });
    if (eta !== null && Math.abs(eta - (order.etaAt ?? 0)) >= ETA_CHANGE_MS) changes.push({ id: order.orderId, etaAt: new Date(eta) });
  });
  // Postgres keeps the ETA that GET /v1/orders/:id shows; the tracking view and its watchers follow.
  await updateEtas(ctx.db, changes);
  await Promise.all(changes.map((c) => ctx.tracking.updateEta(c.id, c.etaAt.toISOString())));
  return changes.length;
}

/** Road travel times per order from the routing engine; a failed leg is left to the straight line. */
async function roadLegs(inputs: Array<{ order: EtaSubject; rider: LatLng | null }>, planner: RoutePlanner) {
  const seconds = async (leg: [LatLng, LatLng] | undefined) => (leg ? ((await planner.road(leg[0], leg[1]))?.durationSeconds ?? null) : null);
  return mapLimit(inputs, ROUTE_CONCURRENCY, async ({ order, rider }) => {
    const { toRestaurant, toDropoff } = etaLegs(order.status, rider, order.restaurant, order.dropoff);
    const [a, b] = await Promise.all([seconds(toRestaurant), seconds(toDropoff)]);
    return { toRestaurantMs: a === null ? null : a * 1_000, toDropoffMs: b === null ? null : b * 1_000 };
  });
}

async function mapLimit<T, R>(items: T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await run(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}
