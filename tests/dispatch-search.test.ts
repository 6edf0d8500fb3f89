import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCandidateFacts, dispatchKeys } from '../dispatch/candidate-facts.ts';
import { scriptedCandidateSearch } from '../dispatch/candidate-search.ts';
import { createOfferHolds } from '../dispatch/offer-holds.ts';
import { acceptanceRate, DISTANCE_BAND_METERS, rankCandidates } from '../domain/dispatch/ranking.ts';
import { createLiveLocation, type LiveLocation } from '../location/live-location.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

/**
 * The dispatch search reads the candidates' facts in the nearby script's own run
 * (dispatch/candidate-search.ts). It must find exactly the riders the nearby search finds, in the
 * same order, each with exactly the facts the candidate-fact store reads for them on its own.
 */
describe('dispatch: the search with its facts in one script', () => {
  let platform: TestPlatform;
  let live: LiveLocation;
  const centre = { lat: 37.4979, lng: 127.0276 };
  const now = Date.now();

  before(async () => {
    platform = await createTestPlatform();
    live = createLiveLocation(platform.redis, platform.prefix, { nearby: 'script' });
    // 80 riders within ~1.5 km (over several cells), two on one spot; some busy, some stale.
    const points = Array.from({ length: 80 }, (_, i) => {
      const r = i === 1 ? 0 : 20 * i;
      const a = i * 2.4;
      return { riderId: `cs-${i}`, lat: centre.lat + (r * Math.cos(a)) / 111_320, lng: centre.lng + (r * Math.sin(a)) / 88_300, recordedAt: i % 13 === 5 ? now - 45_000 : now, speed: 4, heading: 0, accuracy: 5, mocked: false };
    });
    const pipeline = platform.redis.pipeline();
    for (const p of points) pipeline.hset(live.keys.rider(p.riderId), 'status', p.riderId.endsWith('7') ? 'busy' : 'available');
    await pipeline.exec();
    await live.apply(points);
    // Facts: a profile in Postgres only (not cached), cached profiles, a suspension, holds, asked.
    await platform.db('rider_profiles').insert({ rider_id: 'cs-2', max_distance_m: 1_200, auto_accept: true, offers_received: 9, offers_accepted: 4 });
    const facts = createCandidateFacts(platform.db, platform.redis, platform.prefix);
    await facts.saveProfiles([3, 4, 6].map((i) => ({ riderId: `cs-${i}`, profile: { max_distance_m: 2_000 + i, auto_accept: i === 4, offers_received: i, offers_accepted: 1 } })));
    await facts.suspend([{ riderId: 'cs-3', at: now }]);
    const holds = createOfferHolds(platform.redis, platform.prefix);
    await holds.claimFirst('other-order', ['cs-4'], now, now + 60_000);
    await holds.claimFirst('this-order', ['cs-6'], now, now + 60_000);
    await holds.release('cs-6');
  });
  after(() => platform.cleanup());

  const both = async (query: { radiusMeters: number; limit: number }) => {
    const facts = createCandidateFacts(platform.db, platform.redis, platform.prefix);
    const q = { ...centre, ...query, now: Date.now() };
    const scripted = await scriptedCandidateSearch(platform.redis, live.keys, facts, platform.prefix)('this-order', q);
    const riders = await live.nearby(q);
    const read = await facts.read('this-order', riders.map((r) => r.riderId), q.now);
    return { scripted, alone: { riders: riders.map(({ riderId, distanceMeters }) => ({ riderId, distanceMeters })), facts: read } };
  };

  it('finds the riders nearby finds, in its order, with the facts the store reads', async () => {
    for (const query of [{ radiusMeters: 1_000, limit: 50 }, { radiusMeters: 3_000, limit: 50 }, { radiusMeters: 3_000, limit: 400 }, { radiusMeters: 300, limit: 5 }]) {
      const { scripted, alone } = await both(query);
      assert.ok(scripted.riders.length > 0);
      assert.deepEqual(scripted.riders, alone.riders, `riders within ${query.radiusMeters} m, ${query.limit} deep`);
      assert.deepEqual(scripted.facts, alone.facts, `facts within ${query.radiusMeters} m, ${query.limit} deep`);
    }
    const { scripted } = await both({ radiusMeters: 3_000, limit: 400 });
    const ids = scripted.riders.map((r) => r.riderId);
    assert.ok(!ids.includes('cs-7') && !ids.includes('cs-5'), 'busy and stale riders are left out');
    const f = (id: string) => scripted.facts.get(id)!;
    assert.deepEqual([f('cs-2').maxDistanceMeters, f('cs-2').autoAccept, f('cs-2').offersReceived], [1_200, true, 9], 'a profile not cached is read from Postgres');
    assert.equal(await platform.redis.hget(dispatchKeys(platform.prefix).profiles, 'cs-2'), '1200|1|9|4', 'and cached');
    assert.deepEqual(['cs-3', 'cs-4', 'cs-6', 'cs-8'].map((id) => [f(id).suspended, f(id).held, f(id).asked]), [[true, false, false], [false, true, false], [false, false, true], [false, false, false]]);
  });

  it('a cut search stops after the ranking band of the k-th rider that looks eligible, and ranks the same best rider', async () => {
    const facts = createCandidateFacts(platform.db, platform.redis, platform.prefix);
    const search = scriptedCandidateSearch(platform.redis, live.keys, facts, platform.prefix);
    const query = { ...centre, radiusMeters: 3_000, limit: 50, now: Date.now() };
    const whole = await search('this-order', query);
    const best = (found: typeof whole) =>
      rankCandidates(
        found.riders.flatMap((r) => {
          const f = found.facts.get(r.riderId)!;
          return f.asked || f.suspended || f.held ? [] : [{ riderId: r.riderId, distanceMeters: r.distanceMeters, maxDistanceMeters: f.maxDistanceMeters, autoAccept: f.autoAccept, acceptanceRate: acceptanceRate(f.offersReceived, f.offersAccepted) }];
        }),
      )[0]?.riderId;
    assert.equal(whole.cut, undefined, 'no cut asked, none made');
    for (const eligible of [1, 3, 12]) {
      const cut = await search('this-order', query, { eligible });
      assert.equal(cut.cut, true, `${eligible} eligible: cut`);
      assert.ok(cut.riders.length < whole.riders.length, `${eligible} eligible: fewer riders (${cut.riders.length} of ${whole.riders.length})`);
      assert.deepEqual(cut.riders, whole.riders.slice(0, cut.riders.length), 'the nearest ones, in the same order');
      for (const r of cut.riders) assert.deepEqual(cut.facts.get(r.riderId), whole.facts.get(r.riderId));
      // Riders 20 m apart: the k-th eligible one's whole 200 m band is there.
      const kth = whole.riders.filter((r) => { const f = whole.facts.get(r.riderId)!; return !f.asked && !f.suspended && !f.held && r.distanceMeters <= f.maxDistanceMeters; })[eligible - 1]!;
      const band = Math.floor(kth.distanceMeters / DISTANCE_BAND_METERS);
      assert.ok(whole.riders.filter((r) => Math.floor(r.distanceMeters / DISTANCE_BAND_METERS) <= band).every((r) => cut.facts.has(r.riderId)), `${eligible} eligible: the band of the last is complete`);
      assert.equal(best(cut), best(whole), `${eligible} eligible: the same best rider`);
    }
    // Nobody near enough looks eligible: no cut, every rider found is returned.
    const far = await search('this-order', { ...query, radiusMeters: 300 }, { eligible: 40 });
    assert.equal(far.cut, undefined);
    assert.equal(far.riders.length, (await search('this-order', { ...query, radiusMeters: 300 })).riders.length);
  });

  it('a cut search reads the cells only as far as it expects to stop, and reads them again when that guess fails', async () => {
    const facts = createCandidateFacts(platform.db, platform.redis, platform.prefix);
    const search = scriptedCandidateSearch(platform.redis, live.keys, facts, platform.prefix);
    const query = { ...centre, radiusMeters: 3_000, limit: 50, now: Date.now() };
    type Found = Awaited<ReturnType<typeof search>>;
    const looksEligible = (found: Found) => found.riders.filter((r) => { const f = found.facts.get(r.riderId)!; return !f.asked && !f.suspended && !f.held && r.distanceMeters <= f.maxDistanceMeters; });
    const sameUpToTheStop = (bounded: Found, unbounded: Found, eligible: number, what: string) => {
      // Every rider nearer than the end of the k-th eligible rider's band, with the same facts.
      const kth = looksEligible(unbounded)[eligible - 1]!;
      const stop = (Math.floor(kth.distanceMeters / DISTANCE_BAND_METERS) + 1) * DISTANCE_BAND_METERS;
      const within = (found: Found) => found.riders.filter((r) => r.distanceMeters < stop);
      assert.ok(within(unbounded).length > 0, what);
      assert.deepEqual(within(bounded), within(unbounded), what);
      for (const r of within(bounded)) assert.deepEqual(bounded.facts.get(r.riderId), unbounded.facts.get(r.riderId), `${what}: ${r.riderId}`);
      assert.deepEqual(bounded.riders, unbounded.riders.slice(0, bounded.riders.length), `${what}: the nearest ones, in the same order`);
      assert.equal(bounded.cut, true, what);
    };
    for (const eligible of [1, 3, 12]) {
      const unbounded = await search('this-order', query, { eligible, spare: 0 });
      assert.equal(unbounded.cells!.again, false);
      for (const spare of [1, 3]) {
        const bounded = await search('this-order', query, { eligible, spare });
        sameUpToTheStop(bounded, unbounded, eligible, `${eligible} eligible, ${spare} spare`);
        assert.ok(bounded.cells!.read <= unbounded.cells!.read, `${eligible} eligible, ${spare} spare: ${bounded.cells!.read} cells read, ${unbounded.cells!.read} unbounded`);
      }
    }
    // Riders 20 m apart: the first band settles one eligible rider, and the cells beyond it are not read.
    const near = await search('this-order', query, { eligible: 1, spare: 1 });
    const whole = await search('this-order', query, { eligible: 1, spare: 0 });
    assert.ok(near.cells!.read < whole.cells!.read, `${near.cells!.read} cells read, ${whole.cells!.read} unbounded`);
    assert.equal(near.cells!.again, false);

    // Every rider within 300 m held for another order: the first band holds none eligible, so the
    // bound set from it is wrong and the cells are read again; the answer is the unbounded one.
    const holds = createOfferHolds(platform.redis, platform.prefix);
    const close = Array.from({ length: 16 }, (_, i) => `cs-${i}`).filter((id) => id !== 'cs-4');
    for (const id of close) assert.ok(await holds.claimFirst('other-order', [id], Date.now(), Date.now() + 60_000), id);
    try {
      for (const eligible of [1, 3]) {
        const unbounded = await search('this-order', query, { eligible, spare: 0 });
        const bounded = await search('this-order', query, { eligible, spare: 1 });
        assert.equal(bounded.cells!.again, true, `${eligible} eligible: read again`);
        assert.deepEqual([bounded.riders, bounded.facts, bounded.cut], [unbounded.riders, unbounded.facts, unbounded.cut], `${eligible} eligible: as unbounded`);
        assert.ok(looksEligible(bounded).length >= eligible && looksEligible(bounded).every((r) => r.distanceMeters > 300));
      }
    } finally {
      for (const id of close) await holds.release(id);
    }
  });

  it('an empty search, and a lost suspension set rebuilt from Postgres', async () => {
    const facts = createCandidateFacts(platform.db, platform.redis, platform.prefix);
    const search = scriptedCandidateSearch(platform.redis, live.keys, facts, platform.prefix);
    const empty = await search('this-order', { lat: 35.1, lng: 129.0, radiusMeters: 1_000, limit: 50, now: Date.now() });
    assert.deepEqual([empty.riders, empty.facts, empty.cut], [[], new Map(), undefined]);
    await platform.db('fraud_alerts').insert({ rider_id: 'cs-8', rule: 'teleport', severity: 'critical', recorded_at: new Date(), evidence: '[]', detail: 'test', alert: true });
    const keys = dispatchKeys(platform.prefix);
    await platform.redis.del(keys.suspended, keys.suspendedLoaded);
    const found = await search('this-order', { ...centre, radiusMeters: 3_000, limit: 400, now: Date.now() });
    assert.equal(found.facts.get('cs-8')!.suspended, true);
    assert.equal(found.facts.get('cs-3')!.suspended, false, 'a suspension only Redis held is gone with the set (Postgres is the record)');
  });
});
