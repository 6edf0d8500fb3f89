import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { overdueOffersQuery } from '../db/dispatch-batch-repository.ts';
import { acceptAndAssign, closeAndMoveOn } from '../dispatch/accept.ts';
import { createMatchBatches } from '../dispatch/match-batches.ts';
import { matchOrder, type DispatchDeps } from '../dispatch/matcher.ts';
import type { JobContext } from '../jobs/job-definition.ts';
import { dispatchOfferSweep } from '../jobs/dispatch-offer-sweep.ts';
import { dispatchOfferTimeout } from '../jobs/dispatch-offer-timeout.ts';
import { createDispatchBed, type DispatchBed } from './support/dispatch-bed.ts';
import type { TestPlatform } from './support/services.ts';

/**
 * The offers a matching batch writes together share one delayed `dispatch.offer-timeout` job
 * (dispatch/offer-timeouts.ts). Each offer must still time out on its own terms: one still pending
 * expires and its order moves on; one answered meanwhile is left as it is.
 */
describe('dispatch: one timeout job for the offers made together', () => {
  let platform: TestPlatform;
  let restaurant: { id: string; lat: number; lng: number; min_order: number };
  let item: { id: string; price: number };
  let deps: DispatchDeps;
  const TIMEOUT_MS = 1_500;

  let bed: DispatchBed;

  before(async () => {
    bed = await createDispatchBed({ DISPATCH_OFFER_TIMEOUT_MS: String(TIMEOUT_MS) });
    ({ platform, restaurant, item, deps } = bed);
  });
  after(() => platform.cleanup());

  const riders = (tag: string, count: number) => bed.riders(tag, count);
  const orders = (tag: string, count: number) => bed.orders(tag, count);
  const timeoutJobs = async () => (await platform.queues.get('dispatch').getDelayed()).filter((j) => j.name === 'dispatch.offer-timeout');

  it('six offers made at once: one delayed job; the accepted and the rejected stay, the four left expire and move on', async () => {
    await riders('tg', 6);
    const orderIds = await orders('tg', 6);
    const batches = createMatchBatches(deps);
    const outcomes = await Promise.all(orderIds.map((id) => matchOrder({ ...deps, batches }, id)));
    assert.deepEqual(outcomes, Array(6).fill('offered'));
    const offers = await platform.db('dispatch_offers').whereIn('order_id', orderIds).where({ status: 'PENDING' }).orderBy('id');
    assert.equal(offers.length, 6);

    // The offered riders were set busy together: out of the available pool and the geo index.
    for (const o of offers) assert.equal(await platform.redis.hget(deps.location.keys.rider(o.rider_id), 'status'), 'busy');
    assert.deepEqual(await deps.location.nearby({ lat: restaurant.lat, lng: restaurant.lng, radiusMeters: 1_000, limit: 50, now: Date.now() }), []);

    // Fewer delayed jobs than offers, and between them every offer once.
    const jobs = await timeoutJobs();
    assert.ok(jobs.length >= 1 && jobs.length < 6, `${jobs.length} timeout jobs for 6 offers`);
    const covered = jobs.flatMap((j) => j.data.offerIds as string[]);
    assert.deepEqual([...covered].sort(), offers.map((o) => o.id).sort());
    assert.ok(jobs.every((j) => !offers.some((o) => o.id === j.id)), 'no job carries an offer id as its own');
    assert.ok(jobs.every((j) => j.delay === TIMEOUT_MS));

    const [taken, passed, ...left] = offers;
    assert.equal((await acceptAndAssign(deps, taken!.id, taken!.rider_id)).kind, 'accepted');
    assert.ok(await closeAndMoveOn(deps, passed!.id, 'REJECTED', passed!.rider_id));
    await sleep(TIMEOUT_MS + 200);

    // As the worker would run them, each job once (and once more: a retried job changes nothing).
    const ctx = { ...deps, logger: platform.logger } as unknown as JobContext;
    const expired: number[] = [];
    for (const job of jobs) expired.push(((await dispatchOfferTimeout.handler(dispatchOfferTimeout.payload.parse(job.data), ctx)) as { expired: number }).expired);
    for (const job of jobs) assert.deepEqual(await dispatchOfferTimeout.handler(dispatchOfferTimeout.payload.parse(job.data), ctx), { expired: 0 });
    assert.equal(expired.reduce((a, b) => a + b, 0), 4);

    const status = Object.fromEntries((await platform.db('dispatch_offers').whereIn('id', offers.map((o) => o.id))).map((o) => [o.id, o.status]));
    assert.equal(status[taken!.id], 'ACCEPTED');
    assert.equal(status[passed!.id], 'REJECTED');
    for (const o of left) assert.equal(status[o.id], 'EXPIRED');
    for (const o of left) {
      const events = (await platform.db('dispatch_events').where({ order_id: o.order_id }).orderBy('id')).map((e) => `${e.type}:${e.rider_id}`);
      assert.deepEqual(events, [`offered:${o.rider_id}`, `expired:${o.rider_id}`]);
      assert.equal((await platform.db('dispatches').where({ order_id: o.order_id }).first()).status, 'SEARCHING');
      // Back in the available pool, and the order's next match step enqueued.
      assert.equal(await platform.redis.hget(deps.location.keys.rider(o.rider_id), 'status'), 'available');
    }
    const waiting = (await platform.queues.get('dispatch').getWaiting()).filter((j) => j.name === 'dispatch.match').map((j) => j.data.orderId as string);
    for (const o of left) assert.ok(waiting.includes(o.order_id), `a next match for ${o.order_id}`);
    assert.ok(!waiting.includes(taken!.order_id));
  });

  it("with the worker's window, offers of several batches share one job, added when the window closes, and expire together", async () => {
    await riders('tw', 6);
    const orderIds = await orders('tw', 6);
    const batches = createMatchBatches(deps, { timeoutWindowMs: 300 });
    let offersOf = new Set<string>();
    const ours = async () => (await timeoutJobs()).filter((j) => (j.data.offerIds as string[]).some((id) => offersOf.has(id)));
    const offered = async (ids: string[]) => {
      assert.deepEqual(await Promise.all(ids.map((id) => matchOrder({ ...deps, batches }, id))), Array(ids.length).fill('offered'));
      offersOf = new Set((await platform.db('dispatch_offers').whereIn('order_id', orderIds).where({ status: 'PENDING' })).map((o) => o.id as string));
    };
    await offered(orderIds.slice(0, 3));
    await sleep(50);
    await offered(orderIds.slice(3));
    assert.equal(offersOf.size, 6);
    // The window is still open: no job yet, and the matches did not wait for one.
    assert.deepEqual(await ours(), []);
    await sleep(400);
    const jobs = await ours();
    assert.equal(jobs.length, 1, JSON.stringify(jobs.map((j) => j.data)));
    assert.deepEqual([...(jobs[0]!.data.offerIds as string[])].sort(), [...offersOf].sort());
    assert.equal(jobs[0]!.delay, TIMEOUT_MS);

    await sleep(TIMEOUT_MS + 100);
    const ctx = { ...deps, logger: platform.logger } as unknown as JobContext;
    assert.deepEqual(await dispatchOfferTimeout.handler(dispatchOfferTimeout.payload.parse(jobs[0]!.data), ctx), { expired: 6 });
  });

  it("closing the batches adds the open window's job at once", async () => {
    await riders('tc', 1);
    const [orderId] = await orders('tc', 1);
    const batches = createMatchBatches(deps, { timeoutWindowMs: 60_000 });
    assert.equal(await matchOrder({ ...deps, batches }, orderId!), 'offered');
    const offer = await platform.db('dispatch_offers').where({ order_id: orderId, status: 'PENDING' }).first();
    const covering = async () => (await timeoutJobs()).filter((j) => (j.data.offerIds as string[]).includes(offer.id));
    assert.equal((await covering()).length, 0);
    await batches.close();
    assert.equal((await covering()).length, 1);
    // Answered, so that no later test finds it pending.
    assert.ok(await closeAndMoveOn(deps, offer.id, 'REJECTED', offer.rider_id));
  });

  it('a job of one offer, as enqueued before offers were grouped, still times it out', async () => {
    await riders('ts', 1);
    const [orderId] = await orders('ts', 1);
    assert.equal(await matchOrder(deps, orderId!), 'offered');
    const offer = await platform.db('dispatch_offers').where({ order_id: orderId, status: 'PENDING' }).first();
    await sleep(TIMEOUT_MS + 200);
    const ctx = { ...deps, logger: platform.logger } as unknown as JobContext;
    assert.deepEqual(await dispatchOfferTimeout.handler(dispatchOfferTimeout.payload.parse({ offerId: offer.id }), ctx), { expired: 1 });
    assert.equal((await platform.db('dispatch_offers').where({ id: offer.id }).first()).status, 'EXPIRED');
  });

  it('an offer whose timeout job was lost is expired by the sweep after its grace, once, and its order moves on', async () => {
    const [riderId] = await riders('sw', 1);
    const [orderId] = await orders('sw', 1);
    assert.equal(await matchOrder(deps, orderId!), 'offered');
    const offer = await platform.db('dispatch_offers').where({ order_id: orderId, status: 'PENDING' }).first();
    // As if the worker had stopped before adding it, or Redis had lost it.
    for (const job of await timeoutJobs()) if ((job.data.offerIds as string[] | undefined)?.includes(offer.id)) await job.remove();
    assert.ok(!(await timeoutJobs()).some((j) => (j.data.offerIds as string[] | undefined)?.includes(offer.id)));
    await sleep(TIMEOUT_MS + 200);

    const ctx = { ...deps, logger: platform.logger } as unknown as JobContext;
    const sweep = (data: Record<string, unknown>) => dispatchOfferSweep.handler(dispatchOfferSweep.payload.parse(data), ctx);
    // Within its grace the offer is left to its job.
    assert.deepEqual(await sweep({ graceMs: 60_000 }), { expired: 0 });
    assert.equal((await platform.db('dispatch_offers').where({ id: offer.id }).first()).status, 'PENDING');
    // Past it, expired as the job would have: the order looks again, the rider is free.
    assert.deepEqual(await sweep({ graceMs: 0 }), { expired: 1 });
    assert.deepEqual(await sweep({ graceMs: 0 }), { expired: 0 });
    assert.equal((await platform.db('dispatch_offers').where({ id: offer.id }).first()).status, 'EXPIRED');
    assert.equal((await platform.db('dispatches').where({ order_id: orderId }).first()).status, 'SEARCHING');
    assert.equal(await platform.redis.hget(deps.location.keys.rider(riderId!), 'status'), 'available');
    const events = (await platform.db('dispatch_events').where({ order_id: orderId }).orderBy('id')).map((e) => e.type);
    assert.deepEqual(events, ['offered', 'expired']);
    const waiting = (await platform.queues.get('dispatch').getWaiting()).filter((j) => j.name === 'dispatch.match').map((j) => j.data.orderId as string);
    assert.equal(waiting.filter((id) => id === orderId).length, 1);
  });

  it('the sweep reads the pending offers, not the history of every offer', async () => {
    const [orderId] = await orders('sh', 1);
    // Twenty thousand decided offers, and statistics that know it.
    await platform.db.raw(
      `INSERT INTO dispatch_offers (id, order_id, rider_id, status, distance_m, expected_earning, expires_at, decided_at)
       SELECT 'sh-' || n, ?, 'sh-r' || n, 'EXPIRED', 100, 3000, now() - interval '1 hour', now() - interval '1 hour' FROM generate_series(1, 20000) AS n`,
      [orderId!],
    );
    await platform.db.raw('ANALYZE dispatch_offers');
    const sql = overdueOffersQuery(platform.db, 30_000, 500).toString();
    const { rows } = await platform.db.raw(`EXPLAIN (FORMAT JSON) ${sql}`);
    const plan = JSON.stringify(rows[0]['QUERY PLAN']);
    assert.ok(!plan.includes('"Seq Scan"'), plan.slice(0, 2_000));
    assert.match(plan, /dispatch_offers_one_pending_per_(order|rider)/);
  });

  it('a payload naming no offer is refused', () => {
    const parsed = dispatchOfferTimeout.payload.safeParse({});
    assert.equal(parsed.success, false);
    assert.equal(dispatchOfferTimeout.payload.safeParse({ offerIds: [] }).success, false);
  });
});
