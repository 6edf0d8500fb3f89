import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedCatalogue } from '../cli/commands/seed.ts';
import { archiveSubject, routeOf } from '../db/delivery-routes-repository.ts';
import { ordersArchiveRoute } from '../jobs/orders-archive-route.ts';
import type { JobContext } from '../jobs/job-definition.ts';
import { changeStatus } from '../orders/change-status.ts';
import { createOrderPlacer } from '../orders/place-order.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

/** The route archive's one read: the order, when each step of the ride happened, and the accepted fare. */
describe('archiveSubject', () => {
  let platform: TestPlatform;
  let orderId: string;
  before(async () => {
    platform = await createTestPlatform();
    const { db } = platform;
    await seedCatalogue(db);
    const restaurant = await db('restaurants').where({ open: true }).orderBy('id').first();
    const item = await db('menu_items').where({ restaurant_id: restaurant.id, available: true }).orderBy('price', 'desc').first();
    const placed = await createOrderPlacer(db)({ customerId: 'as-c', restaurantId: restaurant.id, items: [{ menuItemId: item.id, quantity: Math.ceil(restaurant.min_order / item.price) }], dropoff: { lat: restaurant.lat + 0.01, lng: restaurant.lng, address: '서울' } });
    assert.equal(placed.kind, 'created');
    orderId = placed.kind === 'created' ? placed.order.id : '';
    assert.equal((await changeStatus(db, orderId, { role: 'restaurant', sub: restaurant.id }, { to: 'COOKING', cookMinutes: 10 })).kind, 'changed');
    // An offer the rider passed on and the one they took: the fare is the accepted one's.
    await db('dispatch_offers').insert([
      { id: 'as-off-1', order_id: orderId, rider_id: 'as-r0', status: 'REJECTED', distance_m: 300, expected_earning: 9_999, expires_at: new Date() },
      { id: 'as-off-2', order_id: orderId, rider_id: 'as-r', status: 'ACCEPTED', distance_m: 200, expected_earning: 3_500, expires_at: new Date() },
    ]);
    await db('orders').where({ id: orderId }).update({ rider_id: 'as-r' });
  });
  after(() => platform.cleanup());

  it('reads the ride’s times as they are reached, and the accepted fare', async () => {
    const { db } = platform;
    const early = await archiveSubject(db, orderId);
    assert.equal(early?.status, 'COOKING');
    assert.equal(early?.rider_id, 'as-r');
    assert.equal(early?.fare, 3_500);
    assert.equal(early?.picked_up_at, null);
    assert.equal(early?.delivered_at, null);
    const restaurantId = (await db('orders').where({ id: orderId }).first()).restaurant_id;
    await changeStatus(db, orderId, { role: 'restaurant', sub: restaurantId }, { to: 'READY_FOR_PICKUP' });
    for (const to of ['PICKED_UP', 'DELIVERING', 'DELIVERED'] as const) assert.equal((await changeStatus(db, orderId, { role: 'rider', sub: 'as-r' }, { to })).kind, 'changed');
    const done = (await archiveSubject(db, orderId))!;
    const events = new Map((await db('order_events').where({ order_id: orderId })).map((e) => [e.to_status, (e.at as Date).getTime()]));
    assert.equal(done.status, 'DELIVERED');
    assert.equal(done.picked_up_at?.getTime(), events.get('PICKED_UP'));
    assert.equal(done.delivering_at?.getTime(), events.get('DELIVERING'));
    assert.equal(done.delivered_at?.getTime(), events.get('DELIVERED'));
    assert.equal(await archiveSubject(db, 'no-such-order'), undefined);
  });

  it('one job archives a relay batch’s delivered orders once each, skipping one it cannot archive; a one-order job still fails for good', async () => {
    const { db } = platform;
    const ctx = { db, logger: platform.logger } as unknown as JobContext;
    const run = (data: unknown) => ordersArchiveRoute.handler(ordersArchiveRoute.payload.parse(data), ctx);
    assert.deepEqual(await run({ orderIds: [orderId, 'no-such-order', orderId] }), { archived: 1, points: 0 });
    const route = await routeOf(db, orderId);
    assert.equal(route?.rider_id, 'as-r');
    assert.equal(route?.fare, 3_500);
    // Repeated (a relay batch delivered again after a crash): nothing twice.
    assert.deepEqual(await run({ orderIds: [orderId] }), { archived: 0, points: 0 });
    assert.equal(Number((await db('delivery_routes').where({ order_id: orderId }).count('* as n'))[0]!.n), 1);
    await assert.rejects(run({ orderId: 'no-such-order' }), /not a delivered order/);
    assert.throws(() => ordersArchiveRoute.payload.parse({ orderIds: [] }));
  });
});
