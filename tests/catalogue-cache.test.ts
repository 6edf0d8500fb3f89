import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedCatalogue } from '../cli/commands/seed.ts';
import { cachedCatalogue } from '../orders/catalogue-cache.ts';
import { createOrderPlacer } from '../orders/place-order.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

describe('catalogue cache for placing orders', () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await createTestPlatform();
    await seedCatalogue(platform.db);
  });
  after(() => platform.cleanup());

  it('reads a restaurant once per expiry, forgets it on invalidate, and never lends one restaurant another’s dish', async () => {
    const [a, b] = await platform.db('restaurants').where({ open: true }).orderBy('id').limit(2);
    const dish = await platform.db('menu_items').where({ restaurant_id: a.id, available: true }).orderBy('id').first();
    const catalogue = cachedCatalogue(platform.db, { ttlMs: 60_000 });
    assert.equal((await catalogue.menuItems(a.id, [dish.id]))[0]?.available, true);
    // A dish of A is not on B's menu, cached or not.
    assert.deepEqual(await catalogue.menuItems(b.id, [dish.id]), []);
    await platform.db('menu_items').where({ id: dish.id }).update({ available: false });
    assert.equal((await catalogue.menuItems(a.id, [dish.id]))[0]?.available, true, 'served from memory until it expires');
    catalogue.invalidate(a.id);
    assert.equal((await catalogue.menuItems(a.id, [dish.id]))[0]?.available, false);
    const short = cachedCatalogue(platform.db, { ttlMs: 50 });
    await platform.db('menu_items').where({ id: dish.id }).update({ available: true });
    assert.equal((await short.menuItems(a.id, [dish.id]))[0]?.available, true);
    await platform.db('menu_items').where({ id: dish.id }).update({ available: false });
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.equal((await short.menuItems(a.id, [dish.id]))[0]?.available, false, 'read again once expired');
  });

  it('an Idempotency-Key retry replays the first order, and a new request under it is refused, with the catalogue cached', async () => {
    const restaurant = await platform.db('restaurants').where({ open: true }).orderBy('id').first();
    const dish = await platform.db('menu_items').where({ restaurant_id: restaurant.id, available: true }).orderBy('price', 'desc').first();
    const place = createOrderPlacer(platform.db, cachedCatalogue(platform.db, { ttlMs: 60_000 }));
    const input = { customerId: 'cc-1', restaurantId: restaurant.id, items: [{ menuItemId: dish.id, quantity: Math.ceil(restaurant.min_order / dish.price) }], dropoff: { lat: restaurant.lat + 0.01, lng: restaurant.lng, address: '성동구 1' }, idempotencyKey: 'k-1' };
    const results = await Promise.all([place(input), place(input), place(input)]);
    const created = results.filter((r) => r.kind === 'created');
    assert.equal(created.length, 1, JSON.stringify(results.map((r) => r.kind)));
    const ids = new Set(results.map((r) => (r.kind === 'created' || r.kind === 'replayed' ? r.order.id : '')));
    assert.equal(ids.size, 1, 'every answer names the one order');
    assert.equal((await platform.db('orders').where({ customer_id: 'cc-1' })).length, 1);
    const other = await place({ ...input, items: [{ ...input.items[0]!, quantity: input.items[0]!.quantity + 1 }] });
    assert.equal(other.kind, 'key-reused');
  });
});
