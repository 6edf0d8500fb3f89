import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedCatalogue } from '../cli/commands/seed.ts';
import { applyTransitions, type TransitionInput } from '../db/order-transitions-repository.ts';
import { openOrdersPage } from '../db/orders-repository.ts';
import { openOrdersForMap } from '../db/ops-map-repository.ts';
import type { OrderStatus } from '../domain/orders/state-machine.ts';
import { createOrderPlacer } from '../orders/place-order.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

/**
 * db/migrations/20261208020000_orders_status_changes_in_place.ts: an order's status changes while
 * it is open write no index entry (a HOT update), and the database still refuses a rider two open
 * orders.
 */
describe('order status changes in place', () => {
  let platform: TestPlatform;
  let placeFor: (customerId: string) => Promise<string>;
  before(async () => {
    platform = await createTestPlatform();
    await seedCatalogue(platform.db);
    const restaurant = await platform.db('restaurants').where({ open: true }).orderBy('id').first();
    const dish = await platform.db('menu_items').where({ restaurant_id: restaurant.id, available: true }).orderBy('price', 'desc').first();
    const place = createOrderPlacer(platform.db);
    placeFor = async (customerId) => {
      const placed = await place({ customerId, restaurantId: restaurant.id, items: [{ menuItemId: dish.id, quantity: Math.ceil(restaurant.min_order / dish.price) }], dropoff: { lat: restaurant.lat + 0.01, lng: restaurant.lng, address: '강남구 1' } });
      assert.equal(placed.kind, 'created');
      return (placed as { order: { id: string } }).order.id;
    };
  });
  after(() => platform.cleanup());

  const change = (id: string, version: number, from: OrderStatus, to: OrderStatus): TransitionInput => ({
    id,
    expectedVersion: version,
    to,
    event: { from_status: from, actor_role: 'admin', actor_id: 'ip-admin', reason: 'test', cook_minutes: null },
    outbox: [],
  });

  /**
   * The status changes' statement, and how many rows of `orders` it updated, in place or not: the
   * session's own counters (they also hold its earlier transactions' counts not yet reported, hence
   * the difference).
   */
  const moved = (changes: TransitionInput[]) =>
    platform.db.transaction(async (trx) => {
      const counters = async () =>
        (await trx.raw(`SELECT pg_stat_get_xact_tuples_updated('orders'::regclass)::int AS updated, pg_stat_get_xact_tuples_hot_updated('orders'::regclass)::int AS hot`)).rows[0] as { updated: number; hot: number };
      const before = await counters();
      const rows = await applyTransitions(trx, changes);
      assert.ok(rows.every(Boolean), 'every change applied');
      const after = await counters();
      return { updated: after.updated - before.updated, hot: after.hot - before.hot };
    });

  it('an open order changing status with its rider writes no index entry; its end does', async () => {
    const id = await placeFor('ip-1');
    assert.deepEqual(await moved([change(id, 1, 'PLACED', 'COOKING')]), { updated: 1, hot: 1 });
    await platform.db('orders').where({ id }).update({ rider_id: 'ip-rider-1', version: 3 });
    assert.deepEqual(await moved([change(id, 3, 'COOKING', 'READY_FOR_PICKUP')]), { updated: 1, hot: 1 });
    assert.deepEqual(await moved([change(id, 4, 'READY_FOR_PICKUP', 'PICKED_UP')]), { updated: 1, hot: 1 });
    // Delivered, the order leaves both indexes: that update is not in place.
    assert.deepEqual(await moved([change(id, 5, 'PICKED_UP', 'DELIVERED')]), { updated: 1, hot: 0 });
    const row = await platform.db('orders').where({ id }).first('active_rider_id', 'is_open');
    assert.deepEqual(row, { active_rider_id: null, is_open: false });
  });

  it('the database refuses a rider a second open order, and allows it once the first has ended', async () => {
    const [first, second] = [await placeFor('ip-2'), await placeFor('ip-3')];
    await platform.db('orders').where({ id: first }).update({ rider_id: 'ip-rider-2', status: 'COOKING' });
    await assert.rejects(platform.db('orders').where({ id: second }).update({ rider_id: 'ip-rider-2' }), (err: { code?: string; constraint?: string }) => err.code === '23505' && err.constraint === 'orders_one_active_per_rider');
    // Any statement that reopens an ended order for a busy rider is refused too.
    await platform.db('orders').where({ id: first }).update({ status: 'DELIVERED' });
    await platform.db('orders').where({ id: second }).update({ rider_id: 'ip-rider-2' });
    await assert.rejects(platform.db('orders').where({ id: first }).update({ status: 'DELIVERING' }), (err: { code?: string }) => err.code === '23505');
  });

  it('lists open orders only, for the ops map and the re-index', async () => {
    const [open, ended] = [await placeFor('ip-4'), await placeFor('ip-5')];
    await platform.db('orders').where({ id: ended }).update({ status: 'CANCELLED' });
    const map = (await openOrdersForMap(platform.db, 1_000)).map((o) => o.id);
    assert.ok(map.includes(open) && !map.includes(ended));
    const page = (await openOrdersPage(platform.db, undefined, 1_000)).map((o) => o.id);
    assert.ok(page.includes(open) && !page.includes(ended));
    // The partial index serves the read (the planner would scan a table this small whole).
    const plan = await platform.db.transaction(async (trx) => {
      await trx.raw('SET LOCAL enable_seqscan = off');
      return (await trx.raw(`EXPLAIN SELECT id FROM orders WHERE is_open ORDER BY created_at DESC LIMIT 10`)).rows as Array<{ 'QUERY PLAN': string }>;
    });
    assert.match(plan.map((r) => r['QUERY PLAN']).join('\n'), /orders_open_by_created/);
  });
});
