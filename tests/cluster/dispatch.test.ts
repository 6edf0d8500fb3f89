import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedCatalogue } from '../../cli/commands/seed.ts';
import { runPools } from '../../workers/run-pools.ts';
import { startTestApi, type TestApi } from '../support/http.ts';
import { createTestPlatform, eventually, type TestPlatform } from '../support/services.ts';
import { openStream } from '../support/sse.ts';

describe('on Redis Cluster: order → dispatch → offer → accept → tracking', () => {
  let platform: TestPlatform;
  let api: TestApi;
  let restaurant: { id: string; lat: number; lng: number; min_order: number };
  let item: { id: string; price: number };

  before(async () => {
    platform = await createTestPlatform({ DISPATCH_OFFER_TIMEOUT_MS: '10000', DISPATCH_RETRY_MS: '200' });
    api = await startTestApi(platform);
    await seedCatalogue(platform.db);
    restaurant = await platform.db('restaurants').where('id', 'like', 'rest-jamsil%').orderBy('id').first();
    item = await platform.db('menu_items').where({ restaurant_id: restaurant.id, available: true }).orderBy('price', 'desc').first();
    await runPools(platform, platform.releasers, ['location', 'orders', 'dispatch', 'notifications']);
  });
  after(() => platform.cleanup());

  const position = (metres: number, at = Date.now()) => ({ lat: restaurant.lat + metres / 111_320, lng: restaurant.lng, recordedAt: new Date(at).toISOString() });
  const rider = async (id: string, metres: number) => {
    const token = await api.token('rider', id);
    const status = await fetch(`${api.url}/v1/riders/me/status`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ status: 'available' }) });
    assert.equal(status.status, 200);
    assert.equal((await api.post('/v1/riders/me/locations', { points: [position(metres)] }, { token })).status, 202);
    return { id, token };
  };

  it('offers the nearest rider, who accepts; the order is assigned and the customer tracks the rider', async () => {
    // Several riders, so their live state, geo cells and offer holds sit in different slots.
    const near = await rider('cd-near', 120);
    await Promise.all([rider('cd-mid', 500), rider('cd-far', 900)]);
    await eventually(async () => (await api.get(`/v1/riders/cd-near/location`, { token: await api.token('admin', 'ops') })).status === 200, 10_000, 'the rider positioned');

    const customer = await api.token('customer', 'cd-customer');
    const quantity = Math.ceil(restaurant.min_order / item.price);
    const placed = await api.post('/v1/orders', { restaurantId: restaurant.id, items: [{ menuItemId: item.id, quantity }], dropoff: { lat: restaurant.lat - 0.01, lng: restaurant.lng, address: '송파구 올림픽로 300' } }, { token: customer });
    assert.equal(placed.status, 201);
    const { id: orderId } = (await placed.json()) as { id: string };
    assert.equal((await api.post(`/v1/orders/${orderId}/transitions`, { to: 'COOKING', cookMinutes: 15 }, { token: await api.token('restaurant', restaurant.id) })).status, 200);

    const offer = await eventually(async () => {
      const { offers } = await (await api.get('/v1/riders/me/offers', { token: near.token })).json();
      return offers.find((o: { orderId: string }) => o.orderId === orderId) as { id: string } | undefined;
    }, 20_000, 'an offer to the nearest rider');
    assert.equal((await api.post(`/v1/offers/${offer.id}/accept`, {}, { token: near.token })).status, 200);
    const order = await platform.db('orders').where({ id: orderId }).first();
    assert.equal(order.rider_id, near.id);
    assert.equal(await platform.redis.hget(`${platform.prefix}:rider:{${near.id}}`, 'status'), 'busy');

    // The rider moves; the order's tracking view (another slot than the rider's) follows.
    assert.equal((await api.post('/v1/riders/me/locations', { points: [position(60)] }, { token: near.token })).status, 202);
    const view = await eventually(async () => {
      const res = await api.get(`/v1/orders/${orderId}/tracking`, { token: customer });
      const body = res.status === 200 ? await res.json() : undefined;
      return body?.rider && Math.abs(body.rider.lat - position(60).lat) < 1e-9 ? body : undefined;
    }, 20_000, 'the tracking view to show the rider at the new position');
    assert.equal(view.riderId, near.id);
    assert.ok(view.route.length >= 1);

    // The SSE stream hears positions through a cluster subscriber (PUBLISH reaches every node).
    const stream = await openStream(`${api.url}/v1/orders/${orderId}/tracking/stream`, { headers: { authorization: `Bearer ${customer}` } });
    try {
      await eventually(() => stream.events.find((e) => e.event === 'snapshot'), 10_000, 'the snapshot');
      // Each round sends a newer fix, so one published after the subscription took hold is heard.
      let step = 0;
      await eventually(async () => {
        step += 1;
        await api.post('/v1/riders/me/locations', { points: [position(60 - step * 5, Date.now())] }, { token: near.token });
        await new Promise((r) => setTimeout(r, 300));
        return stream.events.find((e) => e.event === 'update' && e.data.type === 'position');
      }, 20_000, 'a position update on the stream');
    } finally {
      stream.close();
    }
  });
});
