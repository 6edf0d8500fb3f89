import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { acceptOffers, createOffers } from '../db/dispatch-batch-repository.ts';
import { openDispatch } from '../db/dispatch-repository.ts';
import { dispatchKeys } from '../dispatch/candidate-facts.ts';
import { createMatchBatches } from '../dispatch/match-batches.ts';
import { matchOrder, type DispatchDeps } from '../dispatch/matcher.ts';
import { createOfferHolds } from '../dispatch/offer-holds.ts';
import { createStatusChanger } from '../orders/change-status.ts';
import { createDispatchBed, type DispatchBed } from './support/dispatch-bed.ts';
import type { TestPlatform } from './support/services.ts';

/**
 * Concurrent matches share their round trips (dispatch/match-batches.ts) and concurrent status
 * changes share a statement (orders/change-status.ts): what each of them decides must stay what it
 * would have decided alone. One rider, one pending offer; one order, one pending offer; one winner
 * per order version.
 */
describe('dispatch and status changes in batches', () => {
  let platform: TestPlatform;
  let restaurant: { id: string; lat: number; lng: number; min_order: number };
  let item: { id: string; price: number };
  let deps: DispatchDeps;

  let bed: DispatchBed;

  before(async () => {
    bed = await createDispatchBed({ DISPATCH_OFFER_TIMEOUT_MS: '60000' });
    ({ platform, restaurant, item, deps } = bed);
  });
  after(() => platform.cleanup());

  const riders = (tag: string, count: number) => bed.riders(tag, count);
  const orders = (tag: string, count: number) => bed.orders(tag, count);

  it('50 concurrent matches over 30 riders: 30 offers to 30 different riders, no rider asked twice, in shared statements', async () => {
    const riderIds = await riders('bt', 30);
    const orderIds = await orders('bt', 50);
    const batches = createMatchBatches(deps);
    let offerStatements = 0;
    const count = (q: { sql: string }) => void (/INSERT INTO dispatch_offers/.test(q.sql) && offerStatements++);
    platform.db.on('query', count);
    const outcomes = await Promise.all(orderIds.map((id) => matchOrder({ ...deps, batches }, id)));
    platform.db.removeListener('query', count);

    assert.equal(outcomes.filter((o) => o === 'offered').length, 30, JSON.stringify(outcomes));
    assert.ok(outcomes.every((o) => o === 'offered' || o === 'retry-later'), JSON.stringify(outcomes));
    const pending = await platform.db('dispatch_offers').whereIn('order_id', orderIds).where({ status: 'PENDING' });
    assert.equal(pending.length, 30);
    assert.equal(new Set(pending.map((o) => o.rider_id)).size, 30, 'each rider holds one pending offer');
    assert.equal(new Set(pending.map((o) => o.order_id)).size, 30, 'each order has at most one pending offer');
    assert.deepEqual(new Set(pending.map((o) => o.rider_id)), new Set(riderIds));
    assert.ok(offerStatements < 30, `${offerStatements} offer statements for 30 offers`);
    // Each offer's history and tallies, as one statement per offer would have written them.
    assert.equal(Number((await platform.db('dispatch_events').whereIn('order_id', orderIds).where({ type: 'offered' }).count('* as n'))[0]!.n), 30);
    assert.equal(Number((await platform.db('rider_profiles').whereIn('rider_id', riderIds).where({ offers_received: 1 }).count('* as n'))[0]!.n), 30);
    assert.equal(Number((await platform.db('notification_deliveries').where('idempotency_key', 'like', 'offer:%').whereIn('idempotency_key', pending.map((o) => `offer:${o.id}`)).count('* as n'))[0]!.n), 30);
    assert.equal(Number((await platform.db('dispatches').whereIn('order_id', orderIds).where({ status: 'OFFERED', offers_in_round: 1 }).count('* as n'))[0]!.n), 30);
    // The orders without a rider widened their search, each exactly once.
    assert.equal(Number((await platform.db('dispatch_events').whereIn('order_id', orderIds).where({ type: 'widened' }).count('* as n'))[0]!.n), 20);
  });

  it('one claim run gives each order a different rider, and none to an order when all are held', async () => {
    const holds = createOfferHolds(platform.redis, platform.prefix);
    const now = Date.now();
    const claimed = await holds.claimEach(
      [
        { orderId: 'cl-1', ranked: ['cl-a', 'cl-b'] },
        { orderId: 'cl-2', ranked: ['cl-a', 'cl-b'] },
        { orderId: 'cl-3', ranked: ['cl-a', 'cl-b'] },
        { orderId: 'cl-4', ranked: [] },
      ],
      now,
      now + 60_000,
    );
    assert.deepEqual(claimed, ['cl-a', 'cl-b', undefined, undefined]);
    const keys = dispatchKeys(platform.prefix);
    assert.deepEqual(await platform.redis.smembers(keys.asked('cl-1')), ['cl-a']);
    assert.deepEqual(await platform.redis.smembers(keys.asked('cl-3')), []);
  });

  it('an offer statement shared by offers that clash: each gets the answer it would have got alone', async () => {
    const [a, b, c] = await orders('cx', 3);
    for (const id of [a!, b!, c!]) await openDispatch(platform.db, id, 3_000);
    const offer = (id: string, orderId: string, riderId: string) => ({ offer: { id, order_id: orderId, rider_id: riderId, distance_m: 100, expected_earning: 3_000, expires_at: new Date(Date.now() + 60_000) }, radiusMeters: 3_000 });
    const outcomes = await createOffers(platform.db, [offer('cx-1', a!, 'cx-r1'), offer('cx-2', b!, 'cx-r1'), offer('cx-3', a!, 'cx-r2'), offer('cx-4', c!, 'cx-r3')]);
    assert.deepEqual(outcomes.map((o) => o.kind), ['offered', 'rider-has-offer', 'order-has-offer', 'offered']);
    const pending = await platform.db('dispatch_offers').whereIn('order_id', [a!, b!, c!]).where({ status: 'PENDING' }).orderBy('id');
    assert.deepEqual(pending.map((o) => [o.id, o.rider_id]), [['cx-1', 'cx-r1'], ['cx-4', 'cx-r3']]);
    assert.equal(Number((await platform.db('dispatch_events').whereIn('order_id', [a!, b!, c!]).count('* as n'))[0]!.n), 2);
    // Each dispatch counts the offers written for it, and only those.
    const dispatches = await platform.db('dispatches').whereIn('order_id', [a!, b!, c!]).select('order_id', 'status', 'offers_in_round', 'radius_m');
    const state = Object.fromEntries(dispatches.map((d) => [d.order_id, [d.status, d.offers_in_round, d.radius_m]]));
    assert.deepEqual([state[a!], state[b!], state[c!]], [['OFFERED', 1, 3_000], ['SEARCHING', 0, 3_000], ['OFFERED', 1, 3_000]]);
    // A second offer in the round, once the first has been passed on, counts on the same row.
    await platform.db('dispatch_offers').where({ id: 'cx-1' }).update({ status: 'REJECTED' });
    assert.equal((await createOffers(platform.db, [offer('cx-5', a!, 'cx-r4')]))[0]!.kind, 'offered');
    assert.deepEqual(await platform.db('dispatches').where({ order_id: a! }).first('status', 'offers_in_round'), { status: 'OFFERED', offers_in_round: 2 });
    assert.equal(Number((await platform.db('dispatches').where({ order_id: a! }).count('* as n'))[0]!.n), 1);
  });

  it('riders answering together: one statement decides each accept as alone, one winner per offer, no rider with two orders', async () => {
    const [a, b, c, d] = await orders('ac', 4);
    for (const id of [a!, b!, c!, d!]) await openDispatch(platform.db, id, 3_000);
    const offer = (id: string, orderId: string, riderId: string, expiresIn = 60_000) => ({ offer: { id, order_id: orderId, rider_id: riderId, distance_m: 100, expected_earning: 3_000, expires_at: new Date(Date.now() + expiresIn) }, radiusMeters: 3_000 });
    assert.deepEqual((await createOffers(platform.db, [offer('ac-1', a!, 'ac-r1'), offer('ac-2', b!, 'ac-r2'), offer('ac-3', c!, 'ac-r3', -1_000)])).map((o) => o.kind), ['offered', 'offered', 'offered']);
    // ac-r2 already holds an order: their accept must not give them a second one.
    await platform.db('orders').where({ id: d! }).update({ rider_id: 'ac-r2' });
    const answers = [
      ...Array.from({ length: 5 }, () => ({ offerId: 'ac-1', riderId: 'ac-r1' })),
      { offerId: 'ac-1', riderId: 'ac-intruder' },
      { offerId: 'ac-2', riderId: 'ac-r2' },
      { offerId: 'ac-3', riderId: 'ac-r3' },
      { offerId: 'ac-none', riderId: 'ac-r1' },
    ];
    const results = await acceptOffers(platform.db, answers);
    assert.equal(results.slice(0, 5).filter((r) => r.kind === 'accepted').length, 1, JSON.stringify(results));
    assert.ok(results.slice(0, 5).every((r) => r.kind === 'accepted' || (r.kind === 'not-pending' && r.status === 'ACCEPTED')), JSON.stringify(results));
    assert.deepEqual(results.slice(5).map((r) => r.kind), ['not-pending', 'rider-busy', 'not-pending', 'not-pending']);
    assert.deepEqual(results[7], { kind: 'not-pending', status: 'EXPIRED' });
    const rows = await platform.db('orders').whereIn('id', [a!, b!, c!]).orderBy('id');
    assert.deepEqual(Object.fromEntries(rows.map((o) => [o.id, o.rider_id])), { [a!]: 'ac-r1', [b!]: null, [c!]: null });
    assert.equal((await platform.db('dispatch_events').where({ order_id: a!, type: 'accepted' })).length, 1);
    assert.equal((await platform.db('dispatches').where({ order_id: a! }).first()).status, 'ASSIGNED');
  });

  it('two matches of one order at once: one offer, the other waits for it', async () => {
    await riders('tw', 3);
    const [orderId] = await orders('tw', 1);
    const batches = createMatchBatches(deps);
    const outcomes = await Promise.all([matchOrder({ ...deps, batches }, orderId!), matchOrder({ ...deps, batches }, orderId!)]);
    assert.deepEqual([...outcomes].sort(), ['offered', 'waiting']);
    assert.equal((await platform.db('dispatch_offers').where({ order_id: orderId, status: 'PENDING' })).length, 1);
    assert.equal((await platform.db('dispatches').where({ order_id: orderId })).length, 1);
  });

  it('concurrent acceptances of different orders share a statement; racing changes of one order have one winner', async () => {
    const change = createStatusChanger(platform.db);
    const ids = await orders('sc', 30);
    let updates = 0;
    const count = (q: { sql: string }) => void (/UPDATE orders/.test(q.sql) && updates++);
    platform.db.on('query', count);
    const results = await Promise.all(ids.map((id) => change(id, { role: 'restaurant', sub: restaurant.id }, { to: 'COOKING', cookMinutes: 12 })));
    platform.db.removeListener('query', count);
    assert.ok(updates < 30, `${updates} statements for 30 changes`);
    assert.ok(results.every((r) => r.kind === 'changed'), JSON.stringify(results.filter((r) => r.kind !== 'changed')));
    const rows = await platform.db('orders').whereIn('id', ids);
    assert.ok(rows.every((o) => o.status === 'COOKING' && o.version === 2 && o.cook_minutes === 12));
    assert.equal(Number((await platform.db('order_events').whereIn('order_id', ids).where({ to_status: 'COOKING', version: 2 }).count('* as n'))[0]!.n), 30);
    assert.equal(Number((await platform.db('outbox').whereRaw("payload->>'to' = 'COOKING'").whereRaw("payload->>'orderId' = ANY(?)", [ids]).count('* as n'))[0]!.n), 30);

    // Twenty requests for one order: one wins, every other gets a conflict with the order's state.
    const [contested] = ids;
    const racing = await Promise.all(Array.from({ length: 20 }, () => change(contested!, { role: 'restaurant', sub: restaurant.id }, { to: 'READY_FOR_PICKUP' })));
    assert.equal(racing.filter((r) => r.kind === 'changed').length, 1, JSON.stringify(racing));
    assert.ok(racing.every((r) => r.kind === 'changed' || r.kind === 'conflict'));
    const final = await platform.db('orders').where({ id: contested }).first();
    assert.equal(final.version, 3);
    assert.equal((await platform.db('order_events').where({ order_id: contested })).length, 3);
  });
});
