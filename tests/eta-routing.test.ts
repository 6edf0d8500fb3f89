import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedCatalogue } from '../cli/commands/seed.ts';
import { createRoutePlanner } from '../orders/route-planner.ts';
import { runPools } from '../workers/run-pools.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { startOsrmStandIn } from './support/osrm-stand-in.ts';
import { createTestPlatform, eventually, testLogger, type TestPlatform } from './support/services.ts';

const LEG_SECONDS = 420;

describe('route planner', () => {
  const from = { lat: 37.4979, lng: 127.0276 };
  const to = { lat: 37.5079, lng: 127.0276 };

  it('reads OSRM’s answer, and falls back to the straight line on errors, no route, a hang, or no engine', async () => {
    const osrm = await startOsrmStandIn({ durationSeconds: LEG_SECONDS, distanceMeters: 1_450 });
    try {
      // Generous: a loaded test machine must not turn a slow answer into a fall-back.
      const planner = createRoutePlanner({ osrmUrl: `${osrm.url}/`, timeoutMs: 2_000, logger: testLogger() });
      const road = await planner.route(from, to);
      assert.equal(road.source, 'osrm');
      assert.deepEqual([road.durationSeconds, road.distanceMeters], [LEG_SECONDS, 1_450]);
      // OSRM speaks [lng, lat]; deligo's lines are [lat, lng], like the tracking route.
      assert.deepEqual(road.geometry[0], [from.lat, from.lng]);
      assert.equal(road.geometry.length, 3);
      assert.match(osrm.state.requests[0]!, /^\/route\/v1\/driving\/127\.0276,37\.4979;127\.0276,37\.5079\?overview=full&geometries=geojson/);

      for (const mode of ['error', 'no-route', 'hang'] as const) {
        osrm.state.mode = mode;
        const fallback = await planner.route(from, to, 8);
        assert.equal(fallback.source, 'straight-line', mode);
        // 1,112 m × 1.3 detour at the given 8 m/s.
        assert.ok(Math.abs(fallback.durationSeconds - 181) <= 2, `${mode}: ${fallback.durationSeconds} s`);
        assert.equal(await planner.road(from, to), undefined);
      }
      const none = createRoutePlanner({ timeoutMs: 300, logger: testLogger() });
      assert.equal(none.routed, false);
      assert.equal((await none.route(from, to)).source, 'straight-line');
    } finally {
      await osrm.close();
    }
  });
});

describe('ETA from OSRM, route guidance, and the Redis index of active orders', () => {
  let platform: TestPlatform;
  let api: TestApi;
  let osrm: Awaited<ReturnType<typeof startOsrmStandIn>>;
  let restaurant: { id: string; lat: number; lng: number; min_order: number };

  before(async () => {
    osrm = await startOsrmStandIn({ durationSeconds: LEG_SECONDS, distanceMeters: 2_100 });
    platform = await createTestPlatform({ OSRM_URL: osrm.url, OSRM_TIMEOUT_MS: '2000' });
    api = await startTestApi(platform);
    await seedCatalogue(platform.db);
    restaurant = await platform.db('restaurants').where('id', 'like', 'rest-yeouido%').orderBy('id').first();
    await runPools(platform, platform.releasers, ['location', 'orders', 'dispatch']);
  });
  after(async () => {
    await platform.cleanup();
    await osrm.close();
  });

  const activeKey = () => `${platform.prefix}:orders-active:{eta}`;

  it('indexes an order while it is active, refreshes its ETA from road times, guides the rider, and drops it when it ends', async () => {
    const item = await platform.db('menu_items').where({ restaurant_id: restaurant.id, available: true }).orderBy('price', 'desc').first();
    const customer = await api.token('customer', 'ec-1');
    const rider = await api.token('rider', 'er-1');
    await fetch(`${api.url}/v1/riders/me/status`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${rider}` }, body: JSON.stringify({ status: 'available' }) });
    await api.post('/v1/riders/me/locations', { points: [{ lat: restaurant.lat + 0.004, lng: restaurant.lng, recordedAt: new Date().toISOString(), speed: 6 }] }, { token: rider });
    const placed = await api.post('/v1/orders', { restaurantId: restaurant.id, items: [{ menuItemId: item.id, quantity: Math.ceil(restaurant.min_order / item.price) }], dropoff: { lat: restaurant.lat - 0.01, lng: restaurant.lng, address: '영등포구 여의대로 1' } }, { token: customer });
    const { id } = await placed.json();
    assert.notEqual(await eventually(() => platform.redis.zscore(activeKey(), id), 5_000, 'the order in the index'), null);

    assert.equal((await api.post(`/v1/orders/${id}/transitions`, { to: 'COOKING', cookMinutes: 1 }, { token: await api.token('restaurant', restaurant.id) })).status, 200);
    const offer = await eventually(async () => (await (await api.get('/v1/riders/me/offers', { token: rider })).json()).offers[0], 10_000, 'an offer');
    assert.equal((await api.post(`/v1/offers/${offer.id}/accept`, {}, { token: rider })).status, 200);

    // Cooking ends within a minute; the ride to the restaurant and on to the customer take 7 min each by road.
    await platform.queues.get('orders').add('orders.refresh-eta', {});
    const eta = await eventually(async () => {
      const row = await platform.db('orders').where({ id }).first();
      const seconds = (row.eta_at.getTime() - Date.now()) / 1_000;
      return Math.abs(seconds - 2 * LEG_SECONDS) < 60 ? seconds : undefined;
    }, 10_000, 'an ETA of two road legs');
    assert.ok(eta > 0);
    assert.ok(osrm.state.requests.length >= 2);
    // The job marks the index after it has written the ETA, so this may lag the row a moment.
    await eventually(async () => Number(await platform.redis.zscore(activeKey(), id)) > Date.now() - 60_000 || undefined, 5_000, 'the index remembers when the order was refreshed');

    const guidance = await (await api.get(`/v1/orders/${id}/guidance`, { token: rider })).json();
    assert.deepEqual(guidance.legs.map((l: { leg: string; source: string }) => `${l.leg}:${l.source}`), ['to-restaurant:osrm', 'to-dropoff:osrm']);
    assert.equal(guidance.durationSeconds, 2 * LEG_SECONDS);
    assert.equal(guidance.legs[1].geometry.length, 3);
    assert.deepEqual(guidance.legs[1].geometry[0], [restaurant.lat, restaurant.lng]);
    assert.equal((await api.get(`/v1/orders/${id}/guidance`, { token: await api.token('rider', 'er-2') })).status, 403);

    // The routing engine stops answering: guidance still comes, as straight lines.
    osrm.state.mode = 'hang';
    const fallback = await (await api.get(`/v1/orders/${id}/guidance`, { token: customer })).json();
    assert.deepEqual(fallback.legs.map((l: { source: string }) => l.source), ['straight-line', 'straight-line']);
    osrm.state.mode = 'ok';

    assert.equal((await api.post(`/v1/orders/${id}/transitions`, { to: 'CANCELLED', reason: 'test: customer unreachable' }, { token: await api.token('admin', 'ops') })).status, 200);
    await eventually(async () => (await platform.redis.zscore(activeKey(), id)) === null, 5_000, 'the order to leave the index');
  });

  it('forgets index entries whose tracking state has expired', async () => {
    await platform.redis.zadd(activeKey(), 0, 'ord_vanished');
    await platform.queues.get('orders').add('orders.refresh-eta', {});
    await eventually(async () => (await platform.redis.zscore(activeKey(), 'ord_vanished')) === null, 5_000, 'the stale entry to go');
  });
});
