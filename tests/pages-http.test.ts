import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedCatalogue } from '../cli/commands/seed.ts';
import { unpackFleet, type PackedFleet } from '../domain/ops-map/fleet-view.ts';
import { fraudAlertChannel } from '../location/fraud-check.ts';
import { createLiveLocation } from '../location/live-location.ts';
import { queueShards } from '../runtime/queue-registry.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { createTestPlatform, eventually, type TestPlatform } from './support/services.ts';
import { openStream } from './support/sse.ts';

const riders = (packed: PackedFleet) => new Map(unpackFleet(packed).map((r) => [r.id, r]));

describe('the pages over HTTP', () => {
  let platform: TestPlatform;
  let api: TestApi;
  before(async () => {
    platform = await createTestPlatform();
    api = await startTestApi(platform);
    await seedCatalogue(platform.db);
  });
  after(() => platform.cleanup());

  it('GET /v1/admin/map: riders by colour, open orders, cells and queues, for admins only', async () => {
    const live = createLiveLocation(platform.redis, platform.prefix);
    const now = Date.now();
    const at = (lat: number, lng: number, riderId: string, recordedAt = now) => ({ riderId, lat, lng, recordedAt, speed: 5, heading: 90, accuracy: 5, mocked: false });
    await live.state.setStatus('m-free', 'available');
    await live.state.setStatus('m-busy', 'busy');
    await live.state.setStatus('m-quiet', 'available');
    await live.state.setStatus('m-off', 'offline');
    await live.apply([at(37.4979, 127.0276, 'm-free'), at(37.4981, 127.0279, 'm-busy'), at(37.51, 127.05, 'm-quiet', now - 60_000), at(37.5, 127.0, 'm-off')]);
    const restaurant = await platform.db('restaurants').where('id', 'like', 'rest-gangnam%').orderBy('id').first();
    const item = await platform.db('menu_items').where({ restaurant_id: restaurant.id, available: true }).orderBy('price', 'desc').first();
    const placed = await api.post('/v1/orders', { restaurantId: restaurant.id, items: [{ menuItemId: item.id, quantity: Math.ceil(restaurant.min_order / item.price) }], dropoff: { lat: restaurant.lat + 0.01, lng: restaurant.lng, address: '서초구 서초대로 1' } }, { token: await api.token('customer', 'm-c') });
    const { id } = await placed.json();

    assert.equal((await api.get('/v1/admin/map', { token: await api.token('restaurant', restaurant.id) })).status, 403);
    const res = await api.get('/v1/admin/map', { token: await api.token('admin', 'ops') });
    assert.equal(res.status, 200);
    const map = await res.json();
    const status = Object.fromEntries(map.riders.map((r: { id: string; status: string }) => [r.id, r.status]));
    assert.deepEqual(status, { 'm-free': 'available', 'm-busy': 'busy', 'm-quiet': 'stale', 'm-off': 'offline' });
    assert.deepEqual(map.counts, { available: 1, busy: 1, stale: 1, offline: 1 });
    const order = map.orders.find((o: { id: string }) => o.id === id);
    assert.deepEqual(order, { id, status: 'PLACED', riderId: null, restaurant: { lat: restaurant.lat, lng: restaurant.lng, name: restaurant.name }, dropoff: { lat: restaurant.lat + 0.01, lng: restaurant.lng } });
    const busiest = map.cells[0];
    assert.equal(busiest.riders, 2, 'the two riders on duty at 강남역 share a cell');
    // Every BullMQ queue, each shard of the location queue on its own.
    assert.deepEqual(map.queues.map((q: { name: string }) => q.name), queueShards(platform.config.queueShards).map((s) => s.label));
    assert.equal(map.tileUrl, null);
  });

  it('GET /v1/admin/map/stream: a snapshot, frames with what changed, and fraud alerts as they are published', async () => {
    const admin = await api.token('admin', 'ops');
    const stream = await openStream(`${api.url}/v1/admin/map/stream`, { headers: { authorization: `Bearer ${admin}` } });
    assert.equal(stream.res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const snapshot = await eventually(() => stream.events.find((e) => e.event === 'snapshot'), 10_000, 'the snapshot');
    // Riders travel packed in columns.
    assert.deepEqual(snapshot.data.statuses, ['available', 'busy', 'stale', 'offline']);
    assert.deepEqual(riders(snapshot.data.riders).get('m-busy'), { id: 'm-busy', lat: 37.4981, lng: 127.0279, status: 'busy' });
    const live = createLiveLocation(platform.redis, platform.prefix);
    await live.state.setStatus('m-new', 'available');
    await live.apply([{ riderId: 'm-new', lat: 37.49, lng: 127.03, recordedAt: Date.now(), speed: 5, heading: 0, accuracy: 5, mocked: false }]);
    const frame = await eventually(() => stream.events.find((e) => e.event === 'frame' && riders(e.data.changed).has('m-new')), 10_000, 'a frame with the new rider');
    assert.deepEqual(riders(frame.data.changed).get('m-new'), { id: 'm-new', lat: 37.49, lng: 127.03, status: 'available' });
    assert.ok(!riders(frame.data.changed).has('m-free'), 'riders that did not move are not sent again');
    // A status change alone (no new point) reaches the map too: the fleet index notes it.
    await live.setStatus('m-new', 'busy', Date.now());
    await eventually(() => stream.events.find((e) => e.event === 'frame' && riders(e.data.changed).get('m-new')?.status === 'busy'), 10_000, 'a frame with the rider busy');
    const alert = { id: '77', riderId: 'm-new', rule: 'teleport', severity: 'critical', detail: '6.0 km in 2.0 s', recordedAt: new Date().toISOString() };
    await platform.redis.publish(fraudAlertChannel(platform.prefix), JSON.stringify(alert));
    const got = await eventually(() => stream.events.find((e) => e.event === 'alert'), 5_000, 'the alert');
    assert.deepEqual(got.data, alert);
    stream.close();
    const refused = await api.get('/v1/admin/map/stream', { token: await api.token('customer', 'c-1') });
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  });

  it('/track/:orderId turns the link token into a cookie for that order only, and refuses a bad link', async () => {
    const customer = await api.token('customer', 'm-c');
    const res = await fetch(`${api.url}/track/ord_abc123?token=${customer}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/html/);
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    const cookie = res.headers.get('set-cookie')!;
    assert.match(cookie, /^deligo_token=[\w.-]+; Max-Age=\d+; Path=\/v1\/orders\/ord_abc123; Expires=.*; HttpOnly; SameSite=Strict$/);
    assert.equal((await fetch(`${api.url}/track/ord_abc123`)).headers.get('set-cookie'), null, 'no token, no cookie');
    const bad = await fetch(`${api.url}/track/ord_abc123?token=not-a-token`);
    assert.equal(bad.status, 401);
    assert.match(await bad.text(), /링크를 열 수 없어요/);
    assert.equal((await fetch(`${api.url}/track/${'x'.repeat(65)}`)).status, 400);
    const script = await fetch(`${api.url}/ui/track.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type')!, /javascript/);
  });
});
