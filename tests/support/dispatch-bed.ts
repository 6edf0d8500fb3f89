import assert from 'node:assert/strict';
import { seedCatalogue } from '../../cli/commands/seed.ts';
import type { DispatchDeps } from '../../dispatch/matcher.ts';
import { createLiveLocation } from '../../location/live-location.ts';
import { createOrderTracking } from '../../location/order-tracking.ts';
import { createOrderPlacer } from '../../orders/place-order.ts';
import { createTestPlatform, type TestPlatform } from './services.ts';

export interface DispatchBed {
  platform: TestPlatform;
  restaurant: { id: string; lat: number; lng: number; min_order: number };
  item: { id: string; price: number };
  deps: DispatchDeps;
  /** Available, fresh riders within a few hundred metres of the restaurant, through the live-location code. */
  riders(tag: string, count: number): Promise<string[]>;
  /** PLACED orders at the restaurant, through the real placer. */
  orders(tag: string, count: number): Promise<string[]>;
}

/** A seeded platform with one 잠실 restaurant, its dearest item and the matcher's dependencies. */
export async function createDispatchBed(env: Record<string, string>): Promise<DispatchBed> {
  const platform = await createTestPlatform(env);
  await seedCatalogue(platform.db);
  const restaurant = await platform.db('restaurants').where('id', 'like', 'rest-jamsil%').orderBy('id').first();
  const item = await platform.db('menu_items').where({ restaurant_id: restaurant.id, available: true }).orderBy('price', 'desc').first();
  const deps: DispatchDeps = { db: platform.db, redis: platform.redis, queues: platform.queues, config: platform.config, location: createLiveLocation(platform.redis, platform.prefix), tracking: createOrderTracking(platform.redis, platform.prefix) };
  const riders = async (tag: string, count: number) => {
    const now = Date.now();
    const points = Array.from({ length: count }, (_, i) => ({ riderId: `${tag}-${i}`, recordedAt: now, lat: restaurant.lat + (50 + 10 * i) / 111_320, lng: restaurant.lng, speed: 4, heading: 0, accuracy: 5, mocked: false }));
    const pipeline = platform.redis.pipeline();
    for (const p of points) pipeline.hset(deps.location.keys.rider(p.riderId), 'status', 'available');
    await pipeline.exec();
    await deps.location.apply(points);
    return points.map((p) => p.riderId);
  };
  const orders = async (tag: string, count: number) => {
    const place = createOrderPlacer(platform.db);
    return Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const result = await place({ customerId: `${tag}-c${i}`, restaurantId: restaurant.id, items: [{ menuItemId: item.id, quantity: Math.ceil(restaurant.min_order / item.price) }], dropoff: { lat: restaurant.lat - 0.01, lng: restaurant.lng, address: '송파구 올림픽로 300' } });
        assert.equal(result.kind, 'created');
        return result.kind === 'created' ? result.order.id : '';
      }),
    );
  };
  return { platform, restaurant, item, deps, riders, orders };
}
