import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LocationPoint } from '../domain/location/point.ts';
import type { StatusChange } from '../domain/orders/status-notifications.ts';
import { createOrderTracking, type OrderTracking } from '../location/order-tracking.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

/**
 * The tracking view is kept serialized in Redis, so a read sends stored strings. These check that
 * what is stored stays the view: after every kind of write, in any order, under concurrency.
 */
describe('tracking view kept serialized in Redis', () => {
  let platform: TestPlatform;
  let api: TestApi;
  let tracking: OrderTracking;
  before(async () => {
    platform = await createTestPlatform();
    api = await startTestApi(platform);
    tracking = createOrderTracking(platform.redis, platform.prefix);
  });
  after(() => platform.cleanup());

  const change = (orderId: string, version: number, to: string, extra: Partial<StatusChange> = {}): StatusChange => ({
    orderId, version, from: 'PLACED', to, customerId: `c-${orderId}`, restaurantId: 'rest-1', restaurantName: '교촌치킨', riderId: null,
    cookMinutes: 15, etaMinutes: 20, reason: null, itemCount: 1, total: 18_000,
    restaurant: { lat: 37.4979, lng: 127.0276 }, dropoff: { lat: 37.5079, lng: 127.0276 }, etaAt: '2026-11-23T12:30:00.000Z', ...extra,
  } as StatusChange);
  const fix = (riderId: string, k: number): LocationPoint => ({ riderId, recordedAt: Date.parse('2026-11-23T12:00:00Z') + k * 5_000, lat: 37.4979 + k * 0.0001, lng: 127.0276, speed: 6, heading: 0, accuracy: 5, mocked: false });
  const visible = async (orderId: string) => JSON.parse((await tracking.readJson(orderId))!.json);

  it('holds status, rider, position, ETA and route as read() reports them', async () => {
    await tracking.applyStatus(change('v-1', 2, 'COOKING'));
    await tracking.attachRider('v-1', 'r-"quoted"\\rider');
    await platform.redis.set(`${platform.prefix}:rider-order:{r-"quoted"\\rider}`, 'v-1');
    await tracking.applyPositions([fix('r-"quoted"\\rider', 1)]);
    await tracking.applyPositions([fix('r-"quoted"\\rider', 2)]);
    await tracking.updateEta('v-1', '2026-11-23T12:25:00.000Z');
    const view = await visible('v-1');
    assert.equal(view.status, 'COOKING');
    assert.equal(view.version, 2);
    assert.equal(view.riderId, 'r-"quoted"\\rider');
    assert.equal(view.etaAt, '2026-11-23T12:25:00.000Z');
    assert.deepEqual(view.rider, { lat: 37.4979 + 0.0002, lng: 127.0276, heading: 0, speed: 6, recordedAt: '2026-11-23T12:00:10.000Z' });
    assert.deepEqual(view.route, [[37.4979 + 0.0001, 127.0276], [37.4979 + 0.0002, 127.0276]]);
    assert.deepEqual(view.restaurant, { lat: 37.4979, lng: 127.0276 });
    assert.equal(view.customerId, undefined);
    assert.equal(view.restaurantId, undefined);
    const full = await tracking.read('v-1');
    assert.equal(full?.customerId, 'c-v-1');
    assert.equal(full?.restaurantId, 'rest-1');
    assert.deepEqual({ ...full, customerId: undefined, restaurantId: undefined }, { ...view, customerId: undefined, restaurantId: undefined });
  });

  it('a change made before the rider took the order, relayed after the accept, keeps the rider', async () => {
    await tracking.applyStatus(change('v-late', 1, 'PLACED'));
    await tracking.attachRider('v-late', 'r-late');
    await tracking.applyStatus(change('v-late', 2, 'COOKING'));
    const view = await visible('v-late');
    assert.equal(view.status, 'COOKING');
    assert.equal(view.riderId, 'r-late');
    assert.equal((await tracking.read('v-late'))?.riderId, 'r-late');
  });

  it('versions only move forward', async () => {
    await tracking.applyStatus(change('v-2', 5, 'DELIVERING'));
    await tracking.applyStatus(change('v-2', 4, 'PICKED_UP'));
    assert.equal((await visible('v-2')).status, 'DELIVERING');
  });

  it('keeps the newest 1,100 route points, in order', async () => {
    await tracking.applyStatus(change('v-3', 1, 'DELIVERING', { riderId: 'r-long' }));
    await platform.redis.set(`${platform.prefix}:rider-order:{r-long}`, 'v-3');
    // Batches of points from one rider, as the location worker applies them.
    for (let k = 0; k < 1_150; k += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => tracking.applyPositions([fix('r-long', k + j)])));
    const route = (await visible('v-3')).route as Array<[number, number]>;
    assert.equal(route.length, 1_100);
    assert.deepEqual(route[0], [37.4979 + 50 * 0.0001, 127.0276]);
    assert.deepEqual(route.at(-1), [37.4979 + 1_149 * 0.0001, 127.0276]);
  });

  it('concurrent status and position writes leave a view matching the fields', async () => {
    await tracking.applyStatus(change('v-4', 1, 'PICKED_UP', { riderId: 'r-4' }));
    await platform.redis.set(`${platform.prefix}:rider-order:{r-4}`, 'v-4');
    await Promise.all([
      ...Array.from({ length: 30 }, (_, k) => tracking.applyPositions([fix('r-4', k)])),
      tracking.applyStatus(change('v-4', 2, 'DELIVERING', { riderId: 'r-4' })),
      tracking.updateEta('v-4', '2026-11-23T12:40:00.000Z'),
    ]);
    const view = await visible('v-4');
    const fields = await platform.redis.hmget(`${platform.prefix}:order-track:{order-v-4}`, 'status', 'rider', 'etaAt');
    assert.equal(view.status, fields[0]);
    assert.deepEqual(view.rider, JSON.parse(fields[1]!));
    assert.equal(view.etaAt, fields[2]);
    assert.equal(view.route.length, 30);
  });

  it('an order written before views were serialized is served after a one-time rebuild', async () => {
    const key = `${platform.prefix}:order-track:{order-v-5}`;
    await platform.redis.hset(key, {
      orderId: 'v-5', status: 'COOKING', version: 3, customerId: 'c-v-5', restaurantId: 'rest-1', riderId: '',
      restaurant: JSON.stringify({ lat: 37.5, lng: 127 }), dropoff: JSON.stringify({ lat: 37.51, lng: 127 }), etaAt: '', updatedAt: '2026-11-23T12:00:00.000Z',
    });
    const view = await visible('v-5');
    assert.equal(view.status, 'COOKING');
    assert.equal(view.riderId, null);
    assert.equal(view.etaAt, null);
    assert.equal(view.rider, null);
    assert.deepEqual(view.route, []);
    assert.ok((await platform.redis.ttl(key)) > 0, 'the rebuilt view expires');
  });

  it('GET tracking sends the stored view to parties only', async () => {
    await tracking.applyStatus(change('v-6', 2, 'COOKING'));
    const res = await api.get('/v1/orders/v-6/tracking', { token: await api.token('customer', 'c-v-6') });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await res.json(), await visible('v-6'));
    assert.equal((await api.get('/v1/orders/v-6/tracking', { token: await api.token('customer', 'c-other') })).status, 403);
    assert.equal((await api.get('/v1/orders/v-6/tracking', { token: await api.token('restaurant', 'rest-1') })).status, 200);
    assert.equal((await api.get('/v1/orders/v-6/tracking', { token: await api.token('rider', 'r-nobody') })).status, 403);
    assert.equal((await api.get('/v1/orders/v-6/tracking', { token: await api.token('admin', 'ops') })).status, 200);
    assert.equal((await api.get('/v1/orders/v-404/tracking', { token: await api.token('admin', 'ops') })).status, 404);
    assert.equal((await api.get('/v1/orders/v-6/tracking')).status, 401);
  });
});
