import assert from 'node:assert/strict';
import { Job } from 'bullmq';
import { after, before, describe, it } from 'node:test';
import { seedCatalogue } from '../cli/commands/seed.ts';
import { createOrderTracking } from '../location/order-tracking.ts';
import { changeStatus } from '../orders/change-status.ts';
import { createOrderPlacer } from '../orders/place-order.ts';
import { runPools } from '../workers/run-pools.ts';
import { createTestPlatform, eventually, type TestPlatform } from './support/services.ts';

describe('open orders back into Redis', () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await createTestPlatform();
    await seedCatalogue(platform.db);
    await runPools(platform, platform.releasers, ['maintenance']);
  });
  after(() => platform.cleanup());

  const reindex = async () => {
    const job = await platform.queues.get('maintenance').add('orders.reindex-active', {});
    return eventually(async () => (await Job.fromId(platform.queues.get('maintenance'), job.id!))?.returnvalue as { checked: number; restored: number } | undefined, 15_000, 'the reindex job');
  };

  it('re-indexes open orders Redis does not know (after a Redis loss), with their tracking view and rider, and leaves ended ones out', async () => {
    const restaurant = await platform.db('restaurants').where({ open: true }).orderBy('id').first();
    const dish = await platform.db('menu_items').where({ restaurant_id: restaurant.id, available: true }).orderBy('price', 'desc').first();
    const place = createOrderPlacer(platform.db);
    const ids: string[] = [];
    for (const customer of ['ri-1', 'ri-2', 'ri-3']) {
      const placed = await place({ customerId: customer, restaurantId: restaurant.id, items: [{ menuItemId: dish.id, quantity: Math.ceil(restaurant.min_order / dish.price) }], dropoff: { lat: restaurant.lat + 0.01, lng: restaurant.lng, address: '성동구 1' } });
      assert.equal(placed.kind, 'created');
      ids.push((placed as { order: { id: string } }).order.id);
    }
    const [cooking, cancelled, placedOnly] = ids as [string, string, string];
    assert.equal((await changeStatus(platform.db, cooking, { role: 'restaurant', sub: restaurant.id }, { to: 'COOKING', cookMinutes: 10 })).kind, 'changed');
    await platform.db('orders').where({ id: cooking }).update({ rider_id: 'ri-rider' });
    assert.equal((await changeStatus(platform.db, cancelled, { role: 'customer', sub: 'ri-2' }, { to: 'CANCELLED' })).kind, 'changed');
    // No relay ran: Redis holds nothing of these orders, as after losing its data.
    const tracking = createOrderTracking(platform.redis, platform.prefix);
    const index = `${platform.prefix}:orders-active:{eta}`;
    assert.deepEqual(await platform.redis.zrange(index, 0, -1), []);

    const first = await reindex();
    assert.deepEqual(first, { checked: 2, restored: 2 });
    assert.deepEqual((await platform.redis.zrange(index, 0, -1)).sort(), [cooking, placedOnly].sort());
    const view = await tracking.read(cooking);
    assert.equal(view?.status, 'COOKING');
    assert.equal(view?.riderId, 'ri-rider');
    assert.equal(await platform.redis.get(`${platform.prefix}:rider-order:{ri-rider}`), cooking);
    // The ETA refresh now finds them.
    assert.deepEqual((await tracking.dueForEta(Date.now(), 10)).orders.map((o) => o.orderId).sort(), [cooking, placedOnly].sort());

    // Nothing missing: nothing written, the views are left as they are.
    const before = await platform.redis.hgetall(`${platform.prefix}:order-track:{order-${cooking}}`);
    assert.deepEqual(await reindex(), { checked: 2, restored: 0 });
    assert.deepEqual(await platform.redis.hgetall(`${platform.prefix}:order-track:{order-${cooking}}`), before);
  });
});
