import type { SimApi } from './api-client.ts';
import { sleep } from './clock.ts';
import type { OrderBook } from './order-book.ts';
import { between, type Random } from './random.ts';
import type { SimStats } from './stats.ts';
import { basket, dropoffFor, pickRestaurant, type SimMenuItem, type World } from './world.ts';

export interface KitchenDeps {
  api: SimApi;
  world: World;
  random: Random;
  stats: SimStats;
  orders: OrderBook;
  /** Seconds of real time per minute of cooking the restaurant announces (demos compress it). Default 2. */
  cookSecondsPerMinute: number;
  /** Customers are drawn from this many ids, so some order more than once. */
  customers: number;
  runId: string;
  signal: AbortSignal;
}

/** Share of orders a restaurant turns down. */
const REJECT_SHARE = 0.04;

/**
 * One order from start to "ready": a customer orders, the restaurant accepts it after a moment
 * with a cook time (or, rarely, turns it down) and marks it ready when that time has passed.
 * Dispatch and the riders take it from there.
 */
export async function runOrder(deps: KitchenDeps, menus: Map<string, Promise<SimMenuItem[]>>, n: number): Promise<void> {
  const { api, world, random, stats, signal } = deps;
  const restaurant = pickRestaurant(random, world);
  const customer = await api.as('customer', `sim-${deps.runId}-c${Math.floor(random() * deps.customers) + 1}`);
  let menu = menus.get(restaurant.id);
  if (!menu) {
    menu = customer.get<{ items: SimMenuItem[] }>(`/v1/restaurants/${restaurant.id}/menu`).then((r) => (r.status === 200 ? r.body.items : []));
    menus.set(restaurant.id, menu);
  }
  const items = basket(random, await menu, restaurant.minOrder);
  if (items.length === 0) return;
  const dropoff = dropoffFor(random, restaurant);
  const placed = await customer.post<{ id: string }>(
    '/v1/orders',
    { restaurantId: restaurant.id, items, dropoff: { ...dropoff, address: `시뮬레이션 배달지 ${n}` } },
    { 'idempotency-key': `sim-${deps.runId}-${n}` },
  );
  if (placed.status !== 201) return;
  const orderId = placed.body.id;
  stats.orders.placed += 1;
  deps.orders.placed(orderId, Date.now());

  const kitchen = await api.as('restaurant', restaurant.id);
  if (!(await sleep(between(random, 1_500, 5_000), signal))) return;
  if (random() < REJECT_SHARE) {
    const res = await kitchen.post(`/v1/orders/${orderId}/transitions`, { to: 'REJECTED', reason: '재료 소진' });
    if (res.status === 200) {
      stats.orders.rejected += 1;
      deps.orders.finish(orderId);
    }
    return;
  }
  const cookMinutes = Math.round(between(random, 8, 20));
  if ((await kitchen.post(`/v1/orders/${orderId}/transitions`, { to: 'COOKING', cookMinutes })).status !== 200) return;
  stats.orders.accepted += 1;
  if (!(await sleep(cookMinutes * deps.cookSecondsPerMinute * 1_000, signal))) return;
  if ((await kitchen.post(`/v1/orders/${orderId}/transitions`, { to: 'READY_FOR_PICKUP' })).status === 200) stats.orders.ready += 1;
}
