import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { seedCatalogue } from '../cli/commands/seed.ts';
import { insertFindings } from '../db/fraud-alerts-repository.ts';
import { createCandidateFacts, dispatchKeys } from '../dispatch/candidate-facts.ts';
import { createOfferHolds } from '../dispatch/offer-holds.ts';
import { firstMatchJobId } from '../dispatch/start-dispatch.ts';
import { suspendForFraud } from '../location/fraud-check.ts';
import { changeStatus } from '../orders/change-status.ts';
import { matchOrder } from '../dispatch/matcher.ts';
import { createLiveLocation } from '../location/live-location.ts';
import { createOrderTracking } from '../location/order-tracking.ts';
import { runPools } from '../workers/run-pools.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { createTestPlatform, eventually, type TestPlatform } from './support/services.ts';

/**
 * What dispatch keeps in Redis beside Postgres (candidate facts), and the two ways a dispatch
 * starts (the API right after the acceptance commits; the outbox relay when that did not happen).
 */
describe('dispatch: facts in Redis and starting once', () => {
  let platform: TestPlatform;
  let api: TestApi;
  let restaurant: { id: string; lat: number; lng: number; min_order: number };
  let item: { id: string; price: number };

  before(async () => {
    platform = await createTestPlatform({ DISPATCH_OFFER_TIMEOUT_MS: '60000' });
    api = await startTestApi(platform);
    await seedCatalogue(platform.db);
    restaurant = await platform.db('restaurants').where('id', 'like', 'rest-jamsil%').orderBy('id').first();
    item = await platform.db('menu_items').where({ restaurant_id: restaurant.id, available: true }).orderBy('price', 'desc').first();
    // No orders pool yet: the outbox relay runs only when a test starts it.
    await runPools(platform, platform.releasers, ['location', 'dispatch']);
  });
  after(() => platform.cleanup());

  const facts = () => createCandidateFacts(platform.db, platform.redis, platform.prefix);
  let riderSeq = 0;
  const rider = async (metres: number) => {
    const id = `fr-${++riderSeq}`;
    const token = await api.token('rider', id);
    await fetch(`${api.url}/v1/riders/me/status`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ status: 'available' }) });
    assert.equal((await api.post('/v1/riders/me/locations', { points: [{ lat: restaurant.lat + metres / 111_320, lng: restaurant.lng, recordedAt: new Date().toISOString() }] }, { token })).status, 202);
    await eventually(async () => (await platform.redis.hget(`${platform.prefix}:rider:{${id}}`, 'status')) === 'available' && (await platform.redis.hget(`${platform.prefix}:rider:{${id}}`, 'cell')), 10_000, 'the rider to be indexed');
    return { id, token };
  };
  const placed = async (customer: string) => {
    const res = await api.post('/v1/orders', { restaurantId: restaurant.id, items: [{ menuItemId: item.id, quantity: Math.ceil(restaurant.min_order / item.price) }], dropoff: { lat: restaurant.lat - 0.01, lng: restaurant.lng, address: '송파구 올림픽로 300' } }, { token: await api.token('customer', customer) });
    return (await res.json()).id as string;
  };
  const offerOf = (orderId: string) => eventually(async () => platform.db('dispatch_offers').where({ order_id: orderId, status: 'PENDING' }).first(), 10_000, 'an offer');

  it('a rider not cached yet is read from Postgres once; offers and accepts keep Redis in step with Postgres', async () => {
    await platform.db('rider_profiles').insert({ rider_id: 'fr-cold', max_distance_m: 1_500, auto_accept: false, offers_received: 4, offers_accepted: 3 });
    const cold = (await facts().read('no-order', ['fr-cold', 'fr-none'], Date.now())).get('fr-cold')!;
    assert.deepEqual([cold.maxDistanceMeters, cold.autoAccept, cold.offersReceived, cold.offersAccepted], [1_500, false, 4, 3]);
    assert.equal(await platform.redis.hget(dispatchKeys(platform.prefix).profiles, 'fr-none'), '3000|0|0|0', 'defaults cached for a rider without a profile');

    const near = await rider(100);
    const orderId = await placed('fc-1');
    assert.equal((await api.post(`/v1/orders/${orderId}/transitions`, { to: 'COOKING', cookMinutes: 15 }, { token: await api.token('restaurant', restaurant.id) })).status, 200);
    const offer = await offerOf(orderId);
    assert.equal(offer.rider_id, near.id);
    const inStep = async () => {
      const pg = await platform.db('rider_profiles').where({ rider_id: near.id }).first();
      const redis = (await facts().read(orderId, [near.id], Date.now())).get(near.id)!;
      return { pg: [pg.offers_received, pg.offers_accepted], redis: [redis.offersReceived, redis.offersAccepted], asked: redis.asked, held: redis.held };
    };
    // The offer's row commits first; the worker writes the profile to Redis right after it (with the
    // other offers of its batch), so Redis is in step once that write is done, not at the commit.
    const offered = { pg: [1, 0], redis: [1, 0], asked: true, held: true };
    await eventually(async () => isDeepStrictEqual(await inStep(), offered) || undefined, 10_000, 'the profile in Redis');
    assert.deepEqual(await inStep(), offered);
    assert.equal((await api.post(`/v1/offers/${offer.id}/accept`, {}, { token: near.token })).status, 200);
    assert.deepEqual(await inStep(), { pg: [1, 1], redis: [1, 1], asked: true, held: false });
  });

  it('a critical fraud finding suspends the rider in Redis; a lost suspension set is rebuilt from Postgres', async () => {
    const now = Date.now();
    const stored = await insertFindings(platform.db, [
      { riderId: 'fr-suspect', rule: 'teleport', severity: 'critical', recordedAt: now, evidence: [], detail: 'test', alert: true },
      { riderId: 'fr-minor', rule: 'poor-accuracy', severity: 'info', recordedAt: now, evidence: [], detail: 'test', alert: false },
    ]);
    await suspendForFraud(platform, stored);
    const suspended = async () => {
      const read = await facts().read('no-order', ['fr-suspect', 'fr-minor', 'fr-clean'], Date.now());
      return ['fr-suspect', 'fr-minor', 'fr-clean'].filter((id) => read.get(id)!.suspended);
    };
    assert.deepEqual(await suspended(), ['fr-suspect']);
    // An old finding has lapsed: it is not brought back by a rebuild.
    await platform.db('fraud_alerts').insert({ rider_id: 'fr-old', rule: 'teleport', severity: 'critical', recorded_at: new Date(now - 3_600_000), evidence: '[]', detail: 'old', alert: true, created_at: new Date(now - 3_600_000) });
    const keys = dispatchKeys(platform.prefix);
    await platform.redis.del(keys.suspended, keys.suspendedLoaded);
    assert.deepEqual(await suspended(), ['fr-suspect']);
    assert.equal((await facts().read('no-order', ['fr-old'], Date.now())).get('fr-old')!.suspended, false);
  });

  it('a claim marks the rider asked for that order only; a release of an offer not made takes it back', async () => {
    const holds = createOfferHolds(platform.redis, platform.prefix);
    const now = Date.now();
    assert.equal(await holds.claimFirst('order-a', ['fr-x', 'fr-y'], now, now + 60_000), 'fr-x');
    assert.equal(await holds.claimFirst('order-a', ['fr-x', 'fr-y'], now, now + 60_000), 'fr-y', 'a held rider is passed over');
    const read = async (orderId: string) => {
      const f = await facts().read(orderId, ['fr-x', 'fr-y'], Date.now());
      return [f.get('fr-x')!, f.get('fr-y')!].map((x) => `${x.asked ? 'asked' : '-'}/${x.held ? 'held' : '-'}`);
    };
    assert.deepEqual(await read('order-a'), ['asked/held', 'asked/held']);
    assert.deepEqual(await read('order-b'), ['-/held', '-/held']);
    await holds.release('fr-y', 'order-a');
    await holds.release('fr-x');
    assert.deepEqual(await read('order-a'), ['asked/-', '-/-']);
  });

  it('a dispatch started by the API is not started again by the outbox relay, even after its job left the queue', async () => {
    await rider(120);
    const orderId = await placed('fc-2');
    assert.equal((await api.post(`/v1/orders/${orderId}/transitions`, { to: 'COOKING', cookMinutes: 15 }, { token: await api.token('restaurant', restaurant.id) })).status, 200);
    // The relay has not run (no orders pool yet): the API started this dispatch itself.
    await offerOf(orderId);
    assert.ok((await platform.db('outbox').count('* as n'))[0]!.n !== '0', 'the acceptance is still in the outbox');
    const queue = platform.queues.get('dispatch');
    const first = await eventually(async () => {
      const job = await queue.getJob(firstMatchJobId(orderId));
      return job && (await job.isCompleted()) ? job : undefined;
    }, 10_000, 'the first match to complete');
    // Retention removed the finished job: its id alone would no longer stop a second start.
    await first.remove();

    await runPools(platform, platform.releasers, ['orders']);
    await platform.queues.get('orders').add('orders.outbox-relay', {});
    await eventually(async () => Number((await platform.db('outbox').count('* as n'))[0]!.n) === 0, 10_000, 'the outbox to drain');
    assert.equal(await queue.getJob(firstMatchJobId(orderId)), undefined, 'the relay did not enqueue the first match again');
    const offers = await platform.db('dispatch_offers').where({ order_id: orderId });
    assert.equal(offers.length, 1);
    assert.deepEqual((await platform.db('dispatch_events').where({ order_id: orderId })).map((e) => e.type), ['offered']);
  });

  it('an acceptance whose direct start did not happen is dispatched by the relay, once', async () => {
    await rider(140);
    const orderId = await placed('fc-3');
    // The status change alone, as if the API process stopped right after its commit.
    const changed = await changeStatus(platform.db, orderId, { role: 'restaurant', sub: restaurant.id }, { to: 'COOKING', cookMinutes: 15 });
    assert.equal(changed.kind, 'changed');
    await platform.queues.get('orders').add('orders.outbox-relay', {});
    await offerOf(orderId);
    // A second relay pass (the scheduler's safety net) changes nothing.
    await platform.queues.get('orders').add('orders.outbox-relay', {});
    await eventually(async () => Number((await platform.db('outbox').count('* as n'))[0]!.n) === 0, 10_000, 'the outbox to drain');
    assert.equal((await platform.db('dispatch_offers').where({ order_id: orderId })).length, 1);
    assert.equal((await platform.db('dispatches').where({ order_id: orderId })).length, 1);
  });

  it('a first step told the wrong place for the restaurant searches where the order really is', async () => {
    const near = await rider(160);
    // Nobody else is free nearer the wrong place than this rider, who is 2 km from the restaurant.
    const decoy = await rider(2_000);
    const orderId = await placed('fc-4');
    assert.equal((await changeStatus(platform.db, orderId, { role: 'restaurant', sub: restaurant.id }, { to: 'COOKING', cookMinutes: 15 })).kind, 'changed');
    const deps = { db: platform.db, redis: platform.redis, queues: platform.queues, config: platform.config, location: createLiveLocation(platform.redis, platform.prefix), tracking: createOrderTracking(platform.redis, platform.prefix) };
    // A hint of another place (an old message, a moved restaurant): its search is not used.
    assert.equal(await matchOrder(deps, orderId, Date.now(), { lat: restaurant.lat + 2_000 / 111_320, lng: restaurant.lng }), 'offered');
    const offer = await offerOf(orderId);
    assert.equal(offer.rider_id, near.id, `offered to ${offer.rider_id === decoy.id ? 'the rider at the wrong place' : offer.rider_id}`);
  });
});
