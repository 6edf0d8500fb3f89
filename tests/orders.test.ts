import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedCatalogue } from '../cli/commands/seed.ts';
import { runPools } from '../workers/run-pools.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { createTestPlatform, eventually, type TestPlatform } from './support/services.ts';

describe('orders', () => {
  let platform: TestPlatform;
  let api: TestApi;
  let restaurant: { id: string; lat: number; lng: number; min_order: number };
  let menu: Array<{ id: string; price: number }>;
  let other: { id: string };
  before(async () => {
    platform = await createTestPlatform();
    api = await startTestApi(platform);
    await seedCatalogue(platform.db);
    restaurant = await platform.db('restaurants').where({ open: true }).orderBy('id').first();
    menu = await platform.db('menu_items').where({ restaurant_id: restaurant.id, available: true }).orderBy('price', 'desc');
    other = await platform.db('menu_items').whereNot({ restaurant_id: restaurant.id }).first();
  });
  after(() => platform.cleanup());

  const dropoff = () => ({ lat: restaurant.lat + 0.005, lng: restaurant.lng, address: '서울 강남구 테헤란로 123' });
  /** Enough of the priciest item to clear the minimum order. */
  const items = () => [{ menuItemId: menu[0]!.id, quantity: Math.ceil(restaurant.min_order / menu[0]!.price) }];
  const place = async (body: unknown, customer = 'c-1', key?: string) =>
    api.post('/v1/orders', body, { token: await api.token('customer', customer), headers: key ? { 'idempotency-key': key } : {} });
  const move = async (id: string, body: Record<string, unknown>, role: 'customer' | 'restaurant' | 'rider' | 'admin', sub: string) =>
    api.post(`/v1/orders/${id}/transitions`, body, { token: await api.token(role, sub) });

  it('places an order with a quoted ETA, and an Idempotency-Key retry returns the same order', async () => {
    const body = { restaurantId: restaurant.id, items: items(), dropoff: dropoff() };
    const first = await place(body, 'c-1', 'checkout-1');
    assert.equal(first.status, 201);
    const created = await first.json();
    assert.equal(created.status, 'PLACED');
    assert.equal(created.version, 1);
    assert.ok(created.eta.minutes > 0);
    const again = await place(body, 'c-1', 'checkout-1');
    assert.equal(again.status, 200);
    assert.equal((await again.json()).id, created.id);
    const reused = await place({ ...body, items: [{ ...items()[0]!, quantity: items()[0]!.quantity + 1 }] }, 'c-1', 'checkout-1');
    assert.equal(reused.status, 422);
    assert.equal(await platform.db('orders').where({ customer_id: 'c-1' }).count('* as n').then((r) => Number(r[0]!.n)), 1);
  });

  it('refuses bad orders, naming the field', async () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [{ restaurantId: 'rest-nowhere', items: items(), dropoff: dropoff() }, 'restaurantId', /no restaurant/],
      [{ restaurantId: restaurant.id, items: [{ menuItemId: other.id, quantity: 1 }], dropoff: dropoff() }, 'items.0.menuItemId', /not on .* menu/],
      [{ restaurantId: restaurant.id, items: [{ menuItemId: menu.at(-1)!.id, quantity: 1 }], dropoff: dropoff() }, 'items', /minimum order/],
      [{ restaurantId: restaurant.id, items: items(), dropoff: { ...dropoff(), lat: restaurant.lat + 0.5 } }, 'dropoff', /km from the restaurant/],
      [{ restaurantId: restaurant.id, items: [{ menuItemId: menu[0]!.id, quantity: 0 }], dropoff: dropoff() }, 'items.0.quantity', />=1/],
    ];
    for (const [body, path, message] of cases) {
      const res = await place(body, 'c-bad');
      assert.equal(res.status, 400, path);
      const problem = await res.json();
      assert.equal(problem.errors[0].path, path);
      assert.match(problem.errors[0].message, message);
    }
    assert.equal(await platform.db('orders').where({ customer_id: 'c-bad' }).count('* as n').then((r) => Number(r[0]!.n)), 0);
  });

  it('moves through the states by the right parties, and refuses the rest with 403 or 409', async () => {
    const { id } = await (await place({ restaurantId: restaurant.id, items: items(), dropoff: dropoff() }, 'c-2')).json();
    assert.equal((await move(id, { to: 'COOKING' }, 'restaurant', restaurant.id)).status, 400, 'cookMinutes required');
    assert.equal((await move(id, { to: 'COOKING', cookMinutes: 15 }, 'restaurant', 'rest-other')).status, 403);
    const accepted = await move(id, { to: 'COOKING', cookMinutes: 15 }, 'restaurant', restaurant.id);
    assert.deepEqual(await accepted.json(), { id, status: 'COOKING', version: 2 });
    const late = await move(id, { to: 'CANCELLED' }, 'customer', 'c-2');
    assert.equal(late.status, 409);
    const problem = await late.json();
    assert.equal(problem.currentStatus, 'COOKING');
    assert.equal(problem.currentVersion, 2);
    const stale = await move(id, { to: 'READY_FOR_PICKUP', expectedVersion: 1 }, 'restaurant', restaurant.id);
    assert.equal(stale.status, 409);
    assert.equal((await move(id, { to: 'READY_FOR_PICKUP' }, 'restaurant', restaurant.id)).status, 200);
    const view = await (await api.get(`/v1/orders/${id}`, { token: await api.token('customer', 'c-2') })).json();
    assert.deepEqual(view.history.map((h: { to: string }) => h.to), ['PLACED', 'COOKING', 'READY_FOR_PICKUP']);
    assert.equal((await api.get(`/v1/orders/${id}`, { token: await api.token('customer', 'c-3') })).status, 403);
  });

  it('100 concurrent conflicting transitions: one legal end, a matching log, one notification per step', async () => {
    const { id } = await (await place({ restaurantId: restaurant.id, items: items(), dropoff: dropoff() }, 'c-race')).json();
    const attempts = Array.from({ length: 100 }, (_, i) =>
      i % 3 === 0
        ? move(id, { to: 'CANCELLED' }, 'customer', 'c-race')
        : i % 3 === 1
          ? move(id, { to: 'COOKING', cookMinutes: 10 }, 'restaurant', restaurant.id)
          : move(id, { to: 'REJECTED', reason: '재료 소진' }, 'restaurant', restaurant.id),
    );
    const statuses = (await Promise.all(attempts)).map((r) => r.status);
    assert.ok(statuses.every((s) => s === 200 || s === 409), JSON.stringify(statuses));
    const order = await platform.db('orders').where({ id }).first();
    const events = await platform.db('order_events').where({ order_id: id }).orderBy('version');
    assert.deepEqual(events.map((e) => e.version), Array.from({ length: order.version }, (_, i) => i + 1), 'no gaps, no doubles');
    assert.equal(events.at(-1).to_status, order.status);
    // From PLACED exactly one of the three can win; cooking may then not be cancelled by the customer.
    assert.equal(statuses.filter((s) => s === 200).length, order.version - 1);
    assert.ok(['CANCELLED', 'COOKING', 'REJECTED'].includes(order.status));

    await runPools(platform, platform.releasers, ['orders', 'notifications']);
    await platform.queues.get('orders').add('orders.outbox-relay', {});
    const deliveries = await eventually(async () => {
      const rows = await platform.db('notification_deliveries').where('idempotency_key', 'like', `order:${id}:%`);
      return rows.length >= order.version + 1 ? rows : undefined;
    }, 10_000, 'notifications for every committed step');
    // PLACED tells the customer and the restaurant; each later step tells the customer (more for cancellations).
    const keys = new Set(deliveries.map((d) => d.idempotency_key));
    assert.deepEqual([...keys].sort(), events.map((e) => `order:${id}:v${e.version}`).sort());
    await eventually(async () => (await platform.db('outbox').count('* as n').then((r) => Number(r[0]!.n))) === 0, 10_000, 'the outbox to drain');
  });
  it("keeps a rider index of orders that have a rider only, and reads a rider's orders through it", async () => {
    const { id } = await (await place({ restaurantId: restaurant.id, items: items(), dropoff: dropoff() }, 'c-rider-index')).json();
    const { rows } = await platform.db.raw(
      `SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'orders' AND indexdef LIKE '%(rider_id, created_at)%'`,
    );
    assert.deepEqual(rows.map((r: { indexdef: string }) => /WHERE \(rider_id IS NOT NULL\)/.test(r.indexdef)), [true], 'one index by rider, partial');
    assert.equal((await platform.db('orders').where({ id }).first()).rider_id, null);
    await platform.db.transaction(async (trx) => {
      // Small tables are read whole; turn that off to see which index the rider's list would use.
      await trx.raw('SET LOCAL enable_seqscan = off');
      const plan = (await trx.raw(`EXPLAIN SELECT * FROM orders WHERE rider_id = ? ORDER BY created_at DESC LIMIT 50`, ['rider-x'])).rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
      assert.match(plan, /orders_by_rider/);
    });
  });
});
