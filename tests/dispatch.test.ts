import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedCatalogue } from '../cli/commands/seed.ts';
import { DEFAULT_MAX_DISTANCE_M, farthestPickupMeters } from '../db/rider-profiles-repository.ts';
import { insertFindings } from '../db/fraud-alerts-repository.ts';
import { suspendForFraud } from '../location/fraud-check.ts';
import { WIDENED_ROUND_PRIORITY } from '../dispatch/matcher.ts';
import { runPools } from '../workers/run-pools.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { createTestPlatform, eventually, type TestPlatform } from './support/services.ts';

describe('dispatch: sequential offers with timeouts', () => {
  let platform: TestPlatform;
  let api: TestApi;
  let restaurant: { id: string; lat: number; lng: number; min_order: number };
  let item: { id: string; price: number };

  before(async () => {
    platform = await createTestPlatform({ DISPATCH_OFFER_TIMEOUT_MS: '2000', DISPATCH_RETRY_MS: '200', DISPATCH_ROUNDS: '2', DISPATCH_OFFERS_PER_ROUND: '3' });
    api = await startTestApi(platform);
    await seedCatalogue(platform.db);
    // A restaurant far from the others' riders: each test places its own riders around it.
    restaurant = await platform.db('restaurants').where('id', 'like', 'rest-jamsil%').orderBy('id').first();
    item = await platform.db('menu_items').where({ restaurant_id: restaurant.id, available: true }).orderBy('price', 'desc').first();
    await runPools(platform, platform.releasers, ['location', 'orders', 'dispatch', 'notifications']);
  });
  after(() => platform.cleanup());

  const token = (role: 'customer' | 'restaurant' | 'rider' | 'admin', sub: string) => api.token(role, sub);
  let riderSeq = 0;
  /** Riders `metres` north of the restaurant, available and fresh. */
  const riders = async (...metres: number[]) =>
    Promise.all(
      metres.map(async (m) => {
        const id = `dr-${++riderSeq}`;
        const t = await token('rider', id);
        await fetch(`${api.url}/v1/riders/me/status`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${t}` }, body: JSON.stringify({ status: 'available' }) });
        const res = await api.post('/v1/riders/me/locations', { points: [{ lat: restaurant.lat + m / 111_320, lng: restaurant.lng, recordedAt: new Date().toISOString() }] }, { token: t });
        assert.equal(res.status, 202);
        return { id, token: t };
      }),
    );
  const cookingOrder = async (customer: string) => {
    const quantity = Math.ceil(restaurant.min_order / item.price);
    const placed = await api.post('/v1/orders', { restaurantId: restaurant.id, items: [{ menuItemId: item.id, quantity }], dropoff: { lat: restaurant.lat - 0.01, lng: restaurant.lng, address: '송파구 올림픽로 300' } }, { token: await token('customer', customer) });
    const { id } = await placed.json();
    const res = await api.post(`/v1/orders/${id}/transitions`, { to: 'COOKING', cookMinutes: 15 }, { token: await token('restaurant', restaurant.id) });
    assert.equal(res.status, 200);
    return id as string;
  };
  const offerFor = async (rider: { token: string }, orderId: string) =>
    eventually(async () => {
      const { offers } = await (await api.get('/v1/riders/me/offers', { token: rider.token })).json();
      return offers.find((o: { orderId: string }) => o.orderId === orderId) as { id: string; expectedEarning: number; restaurant: { name: string }; distanceMeters: number; deliveryMeters: number } | undefined;
    }, 10_000, 'an offer');
  const events = async (orderId: string) => (await platform.db('dispatch_events').where({ order_id: orderId }).orderBy('id')).map((e) => `${e.type}:${e.rider_id ?? ''}`);

  it('offers the nearest rider first; a rejection moves on; accepting assigns the rider and makes them busy', async () => {
    const [near, far] = await riders(150, 600);
    const orderId = await cookingOrder('dc-1');
    const first = await offerFor(near!, orderId);
    assert.ok(first.expectedEarning >= 3_000);
    // What the rider decides on: the pickup, how far it is, and how long the delivery leg is (the
    // drop-off is 0.01° south of the restaurant, about 1.1 km).
    assert.equal(first.restaurant.name, (await platform.db('restaurants').where({ id: restaurant.id }).first()).name);
    assert.ok(Math.abs(first.distanceMeters - 150) <= 2, `${first.distanceMeters}`);
    assert.ok(Math.abs(first.deliveryMeters - 1_113) <= 5, `${first.deliveryMeters}`);
    assert.equal((await api.post(`/v1/offers/${first.id}/reject`, {}, { token: near!.token })).status, 200);
    const second = await offerFor(far!, orderId);
    const accepted = await api.post(`/v1/offers/${second.id}/accept`, {}, { token: far!.token });
    assert.equal(accepted.status, 200);
    const order = await platform.db('orders').where({ id: orderId }).first();
    assert.equal(order.rider_id, far!.id);
    const live = await platform.redis.hget(`${platform.prefix}:rider:{${far!.id}}`, 'status');
    assert.equal(live, 'busy');
    assert.deepEqual(await events(orderId), [`offered:${near!.id}`, `rejected:${near!.id}`, `offered:${far!.id}`, `accepted:${far!.id}`]);
    const profile = await platform.db('rider_profiles').where({ rider_id: near!.id }).first();
    assert.deepEqual([profile.offers_received, profile.offers_accepted], [1, 0]);

    // Ops read the same story through the API; nobody else may.
    assert.equal((await api.get(`/v1/orders/${orderId}/dispatch`, { token: await token('customer', 'dc-1') })).status, 403);
    const history = await api.get(`/v1/orders/${orderId}/dispatch`, { token: await token('admin', 'ops') });
    assert.equal(history.status, 200);
    const body = (await history.json()) as {
      orderStatus: string;
      dispatch: { status: string; round: number; riderId: string };
      offers: Array<{ id: string; riderId: string; status: string; decidedAt: string | null }>;
      events: Array<{ type: string; riderId: string; at: string }>;
    };
    assert.equal(body.orderStatus, 'COOKING');
    assert.deepEqual([body.dispatch.status, body.dispatch.round, body.dispatch.riderId], ['ASSIGNED', 1, far!.id]);
    assert.deepEqual(body.offers.map((o) => `${o.status}:${o.riderId}:${o.id}`), [`REJECTED:${near!.id}:${first.id}`, `ACCEPTED:${far!.id}:${second.id}`]);
    assert.ok(body.offers.every((o) => o.decidedAt !== null));
    assert.deepEqual(body.events.map((e) => `${e.type}:${e.riderId}`), await events(orderId));
    assert.equal((await api.get('/v1/orders/no-such-order/dispatch', { token: await token('admin', 'ops') })).status, 404);
    // An order the restaurant has not accepted has no dispatch yet.
    const quantity = Math.ceil(restaurant.min_order / item.price);
    const placed = (await (await api.post('/v1/orders', { restaurantId: restaurant.id, items: [{ menuItemId: item.id, quantity }], dropoff: { lat: restaurant.lat - 0.01, lng: restaurant.lng, address: '송파구 올림픽로 300' } }, { token: await token('customer', 'dc-1b') })).json()) as { id: string };
    const waiting = await api.get(`/v1/orders/${placed.id}/dispatch`, { token: await token('admin', 'ops') });
    assert.deepEqual(await waiting.json(), { orderId: placed.id, orderStatus: 'PLACED', dispatch: null, offers: [], events: [] });
  });

  it('skips a rider with a recent critical fraud finding', async () => {
    const [suspect, honest] = await riders(90, 400);
    // As the fraud check stores a critical finding: in Postgres, and mirrored for dispatch.
    const stored = await insertFindings(platform.db, [{ riderId: suspect!.id, rule: 'teleport', severity: 'critical', recordedAt: Date.now(), evidence: [], detail: 'test', alert: true }]);
    await suspendForFraud(platform, stored);
    const orderId = await cookingOrder('dc-0');
    await offerFor(honest!, orderId);
    assert.ok(!(await events(orderId)).includes(`offered:${suspect!.id}`));
    const offer = await offerFor(honest!, orderId);
    assert.equal((await api.post(`/v1/offers/${offer.id}/accept`, {}, { token: honest!.token })).status, 200);
  });

  it('an offer left to time out goes to the next rider', async () => {
    // Nearer than the first test's riders, who are still around and available.
    const [slow, next] = await riders(100, 140);
    const orderId = await cookingOrder('dc-2');
    await offerFor(slow!, orderId);
    await offerFor(next!, orderId);
    assert.deepEqual((await events(orderId)).slice(0, 3), [`offered:${slow!.id}`, `expired:${slow!.id}`, `offered:${next!.id}`]);
  });

  it('20 simultaneous accepts of one offer: exactly one wins', async () => {
    const [rider] = await riders(120);
    const orderId = await cookingOrder('dc-3');
    const offer = await offerFor(rider!, orderId);
    const results = await Promise.all(Array.from({ length: 20 }, () => api.post(`/v1/offers/${offer.id}/accept`, {}, { token: rider!.token })));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, ...Array(19).fill(409)]);
    assert.equal((await platform.db('orders').where({ rider_id: rider!.id })).length, 1);
  });

  it('the database refuses a second active order for one rider', async () => {
    const [rider] = await riders(130);
    const first = await cookingOrder('dc-4');
    const offer = await offerFor(rider!, first);
    assert.equal((await api.post(`/v1/offers/${offer.id}/accept`, {}, { token: rider!.token })).status, 200);
    // Forge a second pending offer for the busy rider, as a buggy matcher might.
    const second = await cookingOrder('dc-5');
    await platform.db('dispatch_offers').insert({ id: 'off_forged', order_id: second, rider_id: rider!.id, distance_m: 100, expected_earning: 3_000, expires_at: new Date(Date.now() + 60_000) });
    const res = await api.post('/v1/offers/off_forged/accept', {}, { token: rider!.token });
    assert.equal(res.status, 409);
    assert.match((await res.json()).detail, /already have an active order/);
  });

  it('after the last round, ops and the customer are told', async () => {
    const lonely = await platform.db('restaurants').where('id', 'like', 'rest-jongno%').orderBy('id').first();
    const menuItem = await platform.db('menu_items').where({ restaurant_id: lonely.id, available: true }).orderBy('price', 'desc').first();
    const placed = await api.post('/v1/orders', { restaurantId: lonely.id, items: [{ menuItemId: menuItem.id, quantity: Math.ceil(lonely.min_order / menuItem.price) }], dropoff: { lat: lonely.lat, lng: lonely.lng + 0.005, address: '종로구' } }, { token: await token('customer', 'dc-6') });
    const { id } = await placed.json();
    await api.post(`/v1/orders/${id}/transitions`, { to: 'COOKING', cookMinutes: 10 }, { token: await token('restaurant', lonely.id) });
    await eventually(async () => (await platform.db('dispatches').where({ order_id: id }).first())?.status === 'FAILED', 10_000, 'dispatch to give up');
    const told = await eventually(async () => {
      const rows = await platform.db('notification_deliveries').where({ idempotency_key: `dispatch-failed:${id}` });
      return rows.length === 2 ? rows : undefined;
    }, 5_000);
    assert.deepEqual(told.map((r) => r.event).sort(), ['ops.dispatch_failed', 'order.no_rider']);
    assert.deepEqual((await events(id)).filter((e) => e.startsWith('widened') || e.startsWith('failed')), ['widened:', 'failed:']);
    // The widened round waited behind the matches that were due without a priority.
    assert.equal((await platform.queues.get('dispatch').getJob(`match-${id}-r2`))?.opts.priority, WIDENED_ROUND_PRIORITY);
  });

  it('a widened round reaches as far as the farthest rider will ride, and offers only a rider who rides that far', async () => {
    const lonely = await platform.db('restaurants').where('id', 'like', 'rest-jongno%').orderBy('id').first();
    const menuItem = await platform.db('menu_items').where({ restaurant_id: lonely.id, available: true }).orderBy('price', 'desc').first();
    assert.equal(await farthestPickupMeters(platform.db), DEFAULT_MAX_DISTANCE_M, 'nobody rides farther than the default yet');
    // Both beyond the first round's 3 km, within the second's 4.5 km; only one rides 5 km to a pickup.
    const place = async (id: string, metres: number) => {
      const t = await token('rider', id);
      await fetch(`${api.url}/v1/riders/me/status`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${t}` }, body: JSON.stringify({ status: 'available' }) });
      assert.equal((await api.post('/v1/riders/me/locations', { points: [{ lat: lonely.lat + metres / 111_320, lng: lonely.lng, recordedAt: new Date().toISOString() }] }, { token: t })).status, 202);
      return { id, token: t };
    };
    const unwilling = await place('dr-far-default', 3_600);
    const willing = await place('dr-far-willing', 4_000);
    // The rider says so in their app (api/routes/rider-preferences.ts).
    const said = await fetch(`${api.url}/v1/riders/me/preferences`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${willing.token}` }, body: JSON.stringify({ maxDistanceMeters: 5_000 }) });
    assert.equal(said.status, 200);
    assert.equal(await farthestPickupMeters(platform.db), 5_000);
    const placed = await api.post('/v1/orders', { restaurantId: lonely.id, items: [{ menuItemId: menuItem.id, quantity: Math.ceil(lonely.min_order / menuItem.price) }], dropoff: { lat: lonely.lat, lng: lonely.lng + 0.005, address: '종로구' } }, { token: await token('customer', 'dc-7') });
    const { id } = await placed.json();
    await api.post(`/v1/orders/${id}/transitions`, { to: 'COOKING', cookMinutes: 10 }, { token: await token('restaurant', lonely.id) });
    await offerFor(willing, id);
    const seen = await events(id);
    assert.ok(seen.indexOf('widened:') >= 0 && seen.indexOf('widened:') < seen.indexOf(`offered:${willing.id}`), seen.join(', '));
    assert.ok(!seen.includes(`offered:${unwilling.id}`), 'a rider beyond their own maximum is not offered the order');
  });

  it('a rider who goes offline passes on their pending offer: the order moves on at once, the rider stays offline', async () => {
    await riders(50);
    const orderId = await cookingOrder('dc-9');
    const offer = await eventually(async () => platform.db('dispatch_offers').where({ order_id: orderId, status: 'PENDING' }).first(), 10_000, 'a pending offer');
    const leaving = await token('rider', offer.rider_id);
    const res = await fetch(`${api.url}/v1/riders/me/status`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${leaving}` }, body: JSON.stringify({ status: 'offline' }) });
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as { passedOn: string[] }).passedOn, [offer.id]);
    assert.equal((await platform.db('dispatch_offers').where({ id: offer.id }).first()).status, 'REJECTED');
    // The next rider is asked well inside this suite's 2 s offer timeout.
    const next = await eventually(async () => platform.db('dispatch_offers').where({ order_id: orderId }).whereNot({ id: offer.id }).first(), 1_500, 'the next offer');
    assert.notEqual(next.rider_id, offer.rider_id);
    assert.equal(await platform.redis.hget(`${platform.prefix}:rider:{${offer.rider_id}}`, 'status'), 'offline', 'the rider is not put back in the pool');
  });

  it('an order cancelled while its offer is pending: the offer is withdrawn, the rider told and free again at once', async () => {
    await riders(60);
    const orderId = await cookingOrder('dc-8');
    // Whoever ranks first among the riders still around gets it.
    const offer = await eventually(async () => platform.db('dispatch_offers').where({ order_id: orderId, status: 'PENDING' }).first(), 10_000, 'a pending offer');
    const rider = { id: offer.rider_id as string, token: await token('rider', offer.rider_id) };
    const status = () => platform.redis.hget(`${platform.prefix}:rider:{${rider.id}}`, 'status');
    assert.equal(await status(), 'busy', 'out of the pool while considering the offer');

    const cancelled = await api.post(`/v1/orders/${orderId}/transitions`, { to: 'CANCELLED', reason: 'the restaurant ran out of chicken' }, { token: await token('admin', 'ops') });
    assert.equal(cancelled.status, 200);
    // Well inside the 2 s offer timeout of this suite: the relay withdrew it, not the timeout.
    await eventually(async () => (await platform.db('dispatch_offers').where({ id: offer.id }).first()).status === 'CANCELLED', 1_500, 'the offer withdrawn');
    assert.equal((await platform.db('dispatches').where({ order_id: orderId }).first()).status, 'CANCELLED');
    assert.deepEqual((await events(orderId)).slice(-2), [`withdrawn:${rider.id}`, 'cancelled:']);
    await eventually(async () => (await status()) === 'available', 1_500, 'the rider back in the pool');
    const { offers } = await (await api.get('/v1/riders/me/offers', { token: rider.token })).json();
    assert.deepEqual(offers, []);
    const told = await eventually(async () => platform.db('notification_deliveries').where({ event: 'dispatch.offer_withdrawn', recipient_key: `user:${rider.id}` }).first(), 5_000, 'the rider told');
    assert.deepEqual(told.data, { offerId: offer.id, orderId });
    // Accepting the withdrawn offer now is a plain conflict.
    const late = await api.post(`/v1/offers/${offer.id}/accept`, {}, { token: rider.token });
    assert.equal(late.status, 409);
    assert.match((await late.json()).detail, /CANCELLED/);
  });

  it('a rider who goes offline before handing over the order stays offline once it is delivered; one who does not is free again', async () => {
    await riders(40, 45);
    const deliver = async (customer: string, signOff: boolean) => {
      const orderId = await cookingOrder(customer);
      const offer = await eventually(async () => platform.db('dispatch_offers').where({ order_id: orderId, status: 'PENDING' }).first(), 10_000, 'a pending offer');
      const rider = { id: offer.rider_id as string, token: await token('rider', offer.rider_id) };
      assert.equal((await api.post(`/v1/offers/${offer.id}/accept`, {}, { token: rider.token })).status, 200);
      assert.equal((await api.post(`/v1/orders/${orderId}/transitions`, { to: 'READY_FOR_PICKUP' }, { token: await token('restaurant', restaurant.id) })).status, 200);
      for (const to of ['PICKED_UP', 'DELIVERING']) assert.equal((await api.post(`/v1/orders/${orderId}/transitions`, { to }, { token: rider.token })).status, 200);
      // The end of a shift: the rider signs off on the way, then hands over the order.
      if (signOff) assert.equal((await fetch(`${api.url}/v1/riders/me/status`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${rider.token}` }, body: JSON.stringify({ status: 'offline' }) })).status, 200);
      const delivered = new Date();
      assert.equal((await api.post(`/v1/orders/${orderId}/transitions`, { to: 'DELIVERED' }, { token: rider.token })).status, 200);
      // The relay has handled the delivery once the customer's notification is recorded.
      await eventually(async () => platform.db('notification_deliveries').where({ event: 'order.delivered', recipient_key: `user:${customer}` }).first(), 5_000, 'the delivery relayed');
      const status = await platform.redis.hget(`${platform.prefix}:rider:{${rider.id}}`, 'status');
      // A free rider may already be considering the next order (an earlier test's dispatch still looking): that is busy, and free all the same.
      const offeredAgain = await platform.db('dispatch_offers').where({ rider_id: rider.id, status: 'PENDING' }).where('created_at', '>=', delivered).first();
      return { status, offeredAgain: offeredAgain !== undefined };
    };
    assert.deepEqual(await deliver('dc-9', true), { status: 'offline', offeredAgain: false }, 'signed off: still offline, not offered work');
    const free = await deliver('dc-10', false);
    assert.ok(free.status === 'available' || (free.status === 'busy' && free.offeredAgain), `free again for the next order: ${JSON.stringify(free)}`);
  });
});
