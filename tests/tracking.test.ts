import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedCatalogue } from '../cli/commands/seed.ts';
import { routeDistanceMeters } from '../domain/location/geo.ts';
import { runPools } from '../workers/run-pools.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { createTestPlatform, eventually, type TestPlatform } from './support/services.ts';
import { openStream } from './support/sse.ts';

describe('live tracking', () => {
  let platform: TestPlatform;
  let api: TestApi;
  let restaurant: { id: string; lat: number; lng: number; min_order: number };
  before(async () => {
    platform = await createTestPlatform({ DISPATCH_OFFER_TIMEOUT_MS: '5000' });
    api = await startTestApi(platform);
    await seedCatalogue(platform.db);
    restaurant = await platform.db('restaurants').where('id', 'like', 'rest-seongsu%').orderBy('id').first();
    await runPools(platform, platform.releasers, ['location', 'orders', 'dispatch', 'notifications']);
  });
  after(() => platform.cleanup());

  it('follows an order from acceptance to delivery: tracking reads, a stream within 1 s, one arriving alert', async () => {
    const item = await platform.db('menu_items').where({ restaurant_id: restaurant.id, available: true }).orderBy('price', 'desc').first();
    const customer = await api.token('customer', 'tc-1');
    const shop = await api.token('restaurant', restaurant.id);
    const rider = await api.token('rider', 'tr-1');
    const dropoff = { lat: restaurant.lat + 0.01, lng: restaurant.lng };
    const point = async (lat: number, lng: number) =>
      assert.equal((await api.post('/v1/riders/me/locations', { points: [{ lat, lng, recordedAt: new Date().toISOString(), speed: 6, heading: 0 }] }, { token: rider })).status, 202);

    await fetch(`${api.url}/v1/riders/me/status`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${rider}` }, body: JSON.stringify({ status: 'available' }) });
    await point(restaurant.lat + 0.001, restaurant.lng);
    const placed = await api.post('/v1/orders', { restaurantId: restaurant.id, items: [{ menuItemId: item.id, quantity: Math.ceil(restaurant.min_order / item.price) }], dropoff: { ...dropoff, address: '성동구 성수이로 1' } }, { token: customer });
    const { id } = await placed.json();
    const transition = async (token: string, body: Record<string, unknown>) => assert.equal((await api.post(`/v1/orders/${id}/transitions`, body, { token })).status, 200, JSON.stringify(body));
    await transition(shop, { to: 'COOKING', cookMinutes: 10 });
    const offer = await eventually(async () => (await (await api.get('/v1/riders/me/offers', { token: rider })).json()).offers[0], 10_000, 'an offer');
    assert.equal((await api.post(`/v1/offers/${offer.id}/accept`, {}, { token: rider })).status, 200);

    const view = await eventually(async () => {
      const res = await api.get(`/v1/orders/${id}/tracking`, { token: customer });
      const body = res.status === 200 ? await res.json() : undefined;
      return body?.riderId === 'tr-1' ? body : undefined;
    }, 5_000, 'tracking with the rider');
    assert.equal(view.status, 'COOKING');
    assert.equal(view.customerId, undefined, 'tracking does not expose other parties');
    assert.equal((await api.get(`/v1/orders/${id}/tracking`, { token: await api.token('customer', 'tc-2') })).status, 403);

    await transition(shop, { to: 'READY_FOR_PICKUP' });
    await transition(rider, { to: 'PICKED_UP' });
    // The fix taken at the pickup: the archived route starts here however slow this machine is.
    await point(restaurant.lat, restaurant.lng);
    await transition(rider, { to: 'DELIVERING' });
    await eventually(async () => (await (await api.get(`/v1/orders/${id}/tracking`, { token: customer })).json()).status === 'DELIVERING', 5_000);

    // The customer and the restaurant open their streams at the same moment (the second joins a
    // subscription still on its way to Redis).
    const [stream, shopStream] = (await Promise.all([customer, shop].map((token) => openStream(`${api.url}/v1/orders/${id}/tracking/stream`, { headers: { authorization: `Bearer ${token}` } })))) as [Awaited<ReturnType<typeof openStream>>, Awaited<ReturnType<typeof openStream>>];
    assert.equal(stream.res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    for (const s of [stream, shopStream]) await eventually(() => s.events.find((e) => e.event === 'snapshot'), 5_000, 'the snapshot');
    // No wait for Redis to list the subscription: a client that has its first event is subscribed,
    // so the very next fix reaches it.
    const sent = Date.now();
    await point(restaurant.lat + 0.005, restaurant.lng);
    const moved = await eventually(() => stream.events.find((e) => e.event === 'update' && e.data.type === 'position'), 5_000, 'a position update');
    assert.ok(moved.at - sent < 1_000, `update reached the stream ${moved.at - sent} ms after ingest`);
    await eventually(() => shopStream.events.find((e) => e.event === 'update' && e.data.type === 'position'), 5_000, "the position on the restaurant's stream");
    shopStream.close();

    // The ETA refresh replaces the quote made at ordering with one from the rider's position.
    await platform.queues.get('orders').add('orders.refresh-eta', {});
    const eta = await eventually(() => stream.events.find((e) => e.event === 'update' && e.data.type === 'eta'), 5_000, 'an ETA update');
    const minutes = (Date.parse(eta.data.etaAt) - Date.now()) / 60_000;
    assert.ok(minutes > 0 && minutes < 5, `ETA ${minutes.toFixed(1)} min for a rider about 550 m away`);

    // Within 100 m of the drop-off, twice: one "arriving" notification.
    await point(dropoff.lat - 60 / 111_320, dropoff.lng);
    await point(dropoff.lat - 20 / 111_320, dropoff.lng);
    await eventually(async () => (await platform.db('notification_deliveries').where({ event: 'rider.arriving' })).length === 1, 5_000, 'the arriving notification');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await platform.db('notification_deliveries').where({ event: 'rider.arriving' })).length, 1);

    await transition(rider, { to: 'DELIVERED' });
    await eventually(() => stream.events.find((e) => e.event === 'update' && e.data.status === 'DELIVERED'), 5_000, 'the delivered update');
    stream.close();
    await eventually(async () => (await platform.redis.hget(`${platform.prefix}:rider:{tr-1}`, 'status')) === 'available', 5_000, 'the rider to be free again');

    // Settlement: the route from pickup to drop-off is archived, with its distance and the fare.
    const route = await eventually(async () => {
      const res = await api.get(`/v1/orders/${id}/route`, { token: customer });
      return res.status === 200 ? res.json() : undefined;
    }, 15_000, 'the archived route');
    // The fixes from pickup (with a second's grace either side) to drop-off.
    assert.ok(route.pointCount >= 3, `${route.pointCount} points`);
    assert.equal(route.points.length, route.pointCount);
    // This test's rider covers a kilometre in milliseconds, so fraud rules flag those fixes and
    // settlement pays for none of that distance.
    const raw = routeDistanceMeters(route.points.map((p: { lat: number; lng: number }, i: number) => ({ ...p, recordedAt: i })), { excludeFlagged: false });
    assert.ok(raw > 900, `the raw route runs ${raw} m`);
    assert.ok(route.flaggedCount >= 1);
    assert.ok(route.settlementDistanceMeters < raw, `settlement ${route.settlementDistanceMeters} m leaves flagged jumps out`);
    const { deliveries } = await (await api.get('/v1/riders/me/deliveries', { token: rider })).json();
    assert.equal(deliveries[0].orderId, id);
    assert.ok(deliveries[0].fare >= 3_000);
  });
});
