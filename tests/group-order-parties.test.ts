import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { geofenceHits } from '../domain/orders/geofences.ts';
import { isOrderParty } from '../domain/orders/parties.ts';
import { notificationsFor, type StatusChange } from '../domain/orders/status-notifications.ts';
import { runPools } from '../workers/run-pools.ts';
import { groupFixture, type GroupFixture } from './support/group-orders.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { createTestPlatform, eventually, type TestPlatform } from './support/services.ts';
import { openStream } from './support/sse.ts';

describe('a matched group order belongs to both its creator and its joiner', () => {
  let platform: TestPlatform;
  let api: TestApi;
  let f: GroupFixture;
  before(async () => {
    platform = await createTestPlatform();
    api = await startTestApi(platform);
    f = await groupFixture(platform);
    // The outbox relay writes the tracking view and sends the status notifications.
    await runPools(platform, platform.releasers, ['orders']);
  });
  after(() => platform.cleanup());

  const as = async (sub: string) => ({ token: await api.token('customer', sub) });

  it('both read and track the order and hear about it; a stranger does not; only the creator cancels', async () => {
    const created = await api.post('/v1/group-orders', { restaurantId: f.restaurant.id, mode: 'SPLIT', items: f.fullMenu(), dropoff: f.dropoff }, await as('gp-creator'));
    assert.equal(created.status, 201);
    const group = await created.json();
    const joined = await api.post(`/v1/group-orders/${group.id}/join`, {}, await as('gp-joiner'));
    assert.equal(joined.status, 200);
    const orderId: string = (await joined.json()).order.id;

    for (const sub of ['gp-creator', 'gp-joiner']) {
      const res = await api.get(`/v1/orders/${orderId}`, await as(sub));
      assert.equal(res.status, 200, `${sub} reads the order`);
      const order = await res.json();
      assert.deepEqual([order.customerId, order.coCustomerId], ['gp-creator', 'gp-joiner']);
      const mine = await (await api.get('/v1/me/orders', await as(sub))).json();
      assert.deepEqual(mine.orders.map((o: { id: string }) => o.id), [orderId], `${sub} lists the order`);
      const tracking = await eventually(async () => {
        const t = await api.get(`/v1/orders/${orderId}/tracking`, await as(sub));
        return t.status === 200 ? t.json() : undefined;
      }, 10_000, `${sub} tracks the order`);
      assert.equal(tracking.status, 'PLACED');
      assert.equal(tracking.coCustomerId, undefined, 'the view names no customer');
    }
    assert.equal((await api.get(`/v1/orders/${orderId}`, await as('gp-stranger'))).status, 403);
    assert.equal((await api.get(`/v1/orders/${orderId}/tracking`, await as('gp-stranger'))).status, 403);
    assert.deepEqual((await (await api.get('/v1/me/orders', await as('gp-stranger'))).json()).orders, []);

    const joinerToken = (await as('gp-joiner')).token;
    const stream = await openStream(`${api.url}/v1/orders/${orderId}/tracking/stream`, { headers: { authorization: `Bearer ${joinerToken}` } });
    try {
      assert.equal(stream.res.status, 200);
      const snapshot = await eventually(() => stream.events.find((e) => e.event === 'snapshot'), 5_000, 'the joiner’s snapshot');
      assert.equal(snapshot.data.orderId, orderId);
    } finally {
      stream.close();
    }
    const strangerStream = await fetch(`${api.url}/v1/orders/${orderId}/tracking/stream`, { headers: { authorization: `Bearer ${(await as('gp-stranger')).token}` } });
    assert.equal(strangerStream.status, 403);
    await strangerStream.body?.cancel();

    // The status notifications go to both customers, once each.
    const placed = await eventually(async () => {
      const rows = await platform.db('notification_deliveries').where({ event: 'order.placed' }).whereIn('recipient_key', ['user:gp-creator', 'user:gp-joiner']);
      return rows.length === 2 ? rows : undefined;
    }, 10_000, 'order.placed for both');
    assert.deepEqual(placed.map((r) => r.recipient_key).sort(), ['user:gp-creator', 'user:gp-joiner']);

    // Reading is shared; changing is not: the joiner cannot cancel the creator's order.
    assert.equal((await api.post(`/v1/orders/${orderId}/transitions`, { to: 'CANCELLED' }, await as('gp-joiner'))).status, 403);
    assert.equal((await api.post(`/v1/orders/${orderId}/transitions`, { to: 'CANCELLED' }, await as('gp-creator'))).status, 200);
    const cancelled = await eventually(async () => {
      const rows = await platform.db('notification_deliveries').where({ event: 'order.cancelled' }).whereIn('recipient_key', ['user:gp-creator', 'user:gp-joiner']);
      return rows.length === 2 ? rows : undefined;
    }, 10_000, 'order.cancelled for both');
    assert.equal(cancelled.length, 2);
  });

  it('the rules: the co-customer is a reader and hears what the customer hears, nothing more', () => {
    const order = { customerId: 'c', coCustomerId: 'j', restaurantId: 'r', riderId: 'd' };
    assert.equal(isOrderParty(order, { role: 'customer', sub: 'j' }), true);
    assert.equal(isOrderParty(order, { role: 'customer', sub: 'x' }), false);
    assert.equal(isOrderParty(order, { role: 'rider', sub: 'j' }), false, 'the seat must match the role');
    assert.equal(isOrderParty({ ...order, coCustomerId: null }, { role: 'customer', sub: 'j' }), false);
    assert.equal(isOrderParty({ ...order, coCustomerId: '' }, { role: 'customer', sub: '' }), false, 'an empty id matches no one');

    const change: StatusChange = {
      orderId: 'o', version: 2, from: 'PLACED', to: 'CANCELLED', customerId: 'c', coCustomerId: 'j', restaurantId: 'r', restaurantName: 'R', riderId: 'd',
      cookMinutes: null, etaMinutes: null, reason: null, itemCount: 1, total: 1, restaurant: { lat: 0, lng: 0 }, dropoff: { lat: 0, lng: 0 }, etaAt: null,
    };
    assert.deepEqual(notificationsFor(change).map((n) => `${n.event}→${n.userId}`).sort(), ['order.cancelled→c', 'order.cancelled→d', 'order.cancelled→j', 'order.cancelled→r']);
    assert.deepEqual(notificationsFor({ ...change, coCustomerId: undefined }).map((n) => n.userId).sort(), ['c', 'd', 'r'], 'messages from older versions have no co-customer');
    const placed = notificationsFor({ ...change, to: 'PLACED', from: null });
    assert.deepEqual(placed.map((n) => `${n.event}→${n.userId}`).sort(), ['order.placed→c', 'order.placed→j', 'restaurant.new_order→r']);

    const at = { lat: 37.5, lng: 127 };
    const hits = geofenceHits({ orderId: 'o', status: 'DELIVERING', customerId: 'c', coCustomerId: 'j', restaurantId: 'r', rider: at, restaurant: { lat: 37.6, lng: 127 }, dropoff: at });
    assert.deepEqual(hits.map((h) => `${h.event}→${h.userId}`), ['rider.arriving→c', 'rider.arriving→j']);
  });
});
