import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cellId, cellOf, cellsByDistance, cellsCovering } from '../domain/location/cells.ts';
import { haversineMeters } from '../domain/location/geo.ts';
import { seededRandom } from '../domain/random.ts';
import { createLiveLocation, FRESH_MS, type LiveLocation } from '../location/live-location.ts';
import { nearbyModeFor } from '../location/nearby-search.ts';
import { GANGNAM, nearbyQueries, referenceNearby, seedNearbyFleet } from './support/nearby.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

describe('cellsByDistance', () => {
  it('keeps exactly the covering cells a circle reaches, nearest edge first, never over-stating an edge', () => {
    const random = seededRandom(3);
    for (let q = 0; q < 200; q++) {
      const lat = GANGNAM.lat + (random() - 0.5) * 0.05;
      const lng = GANGNAM.lng + (random() - 0.5) * 0.05;
      const radius = 100 + random() * 2_500;
      const cells = cellsByDistance(lat, lng, radius);
      for (let i = 1; i < cells.length; i++) assert.ok(cells[i]!.edgeMeters >= cells[i - 1]!.edgeMeters);
      const kept = new Map(cells.map((c) => [cellId(c.cell), c.edgeMeters]));
      assert.equal(kept.get(cellId(cellOf(lat, lng))), 0, 'the query point’s own cell comes first (a neighbour a few metres away may tie)');
      assert.ok(cells.length <= cellsCovering(lat, lng, radius).length);
      // Points anywhere near: each is no nearer than its cell's edge, and if within the radius its cell is kept.
      for (let p = 0; p < 200; p++) {
        const point = { lat: lat + (random() - 0.5) * 0.06, lng: lng + (random() - 0.5) * 0.06 };
        const metres = haversineMeters({ lat, lng }, point) * (6_372_797.560856 / 6_371_008.8);
        const edge = kept.get(cellId(cellOf(point.lat, point.lng)));
        if (metres <= radius) assert.ok(edge !== undefined, `a point ${metres.toFixed(0)} m away lies in a kept cell`);
        if (edge !== undefined) assert.ok(metres >= edge, `edge ${edge.toFixed(1)} m ≤ ${metres.toFixed(1)} m`);
      }
    }
  });

  it('reaches a cell whose edge is just inside the radius in Redis’s metres (about 111,226 per degree)', () => {
    // 1,000 m north of the query in Redis's metres is 0.0089906°; the row boundary at 37.51 lies 999.5 m north.
    const lat = 37.51 - 999.5 / ((6_372_797.560856 * Math.PI) / 180);
    const ids = cellsCovering(lat, 127.03, 1_000).map(cellId);
    assert.ok(ids.includes(cellId(cellOf(37.5100001, 127.03))), `${ids.join(' ')}`);
  });

  it('drops the corners of the 3 × 3 block a 1 km circle spans when they are out of reach', () => {
    // The middle of a cell: the circle reaches the four side neighbours but no corner cell.
    const cells = cellsByDistance(37.495, 127.03125, 600);
    assert.equal(cellsCovering(37.495, 127.03125, 600).length, 9);
    assert.equal(cells.length, 5);
  });
});

describe('nearby: the script (one Redis) and the pipeline (Redis Cluster) give the same answer', () => {
  let platform: TestPlatform;
  let script: LiveLocation;
  let pipeline: LiveLocation;
  let refKey: string;
  const now = Date.now();

  before(async () => {
    platform = await createTestPlatform();
    script = createLiveLocation(platform.redis, platform.prefix, { nearby: 'script' });
    pipeline = createLiveLocation(platform.redis, platform.prefix, { nearby: 'pipeline' });
    const indexed = await seedNearbyFleet(script, now);
    refKey = `${platform.prefix}:nearby-reference`;
    await platform.redis.geoadd(refKey, ...indexed.flatMap((r) => [r.lng, r.lat, r.riderId]));
  });
  after(() => platform.cleanup());

  it('on one Redis the default is the script', () => {
    assert.equal(nearbyModeFor(platform.redis), 'script');
  });

  it('both return the same riders in the same order as one unsharded GEO key, busy, offline and stale riders left out', async () => {
    let found = 0;
    for (const query of nearbyQueries(now)) {
      const expected = await referenceNearby(platform.redis, script, refKey, query);
      const [byScript, byPipeline] = await Promise.all([script.nearby(query), pipeline.nearby(query)]);
      const what = `query ${JSON.stringify(query)}`;
      assert.deepEqual(byScript, expected, `script, ${what}`);
      assert.deepEqual(byPipeline, expected, `pipeline, ${what}`);
      found += expected.length;
    }
    assert.ok(found > 300, `the queries found riders (${found})`);
  });

  it('the 30 s freshness rule: a point exactly 30 s old counts, older ones do not', async () => {
    const query = { ...GANGNAM, radiusMeters: 3_000, limit: 400, now };
    for (const live of [script, pipeline]) {
      const riders = await live.nearby(query);
      const ids = new Set(riders.map((r) => r.riderId));
      assert.ok(riders.every((r) => r.recordedAt >= now - FRESH_MS));
      assert.ok(ids.has('nf-004') && ids.has('nf-024'), 'exactly FRESH_MS old');
      for (const left of ['nf-003', 'nf-005', 'nf-006', 'nf-007', 'nf-008']) assert.ok(!ids.has(left), `${left} is stale, busy or offline`);
      // The same riders a moment later: the 30 s-old points have gone stale.
      const later = new Set((await live.nearby({ ...query, now: now + 1 })).map((r) => r.riderId));
      assert.ok(!later.has('nf-004') && !later.has('nf-024'));
    }
  });

  it('a rider who comes back after going stale is found again, at the new position', async () => {
    const riderId = 'nf-003';
    const at = { lat: GANGNAM.lat + 0.0001, lng: GANGNAM.lng };
    await script.apply([{ riderId, ...at, recordedAt: now, speed: 2, heading: 0, accuracy: 5, mocked: false }]);
    const query = { ...GANGNAM, radiusMeters: 50, limit: 100, now };
    for (const live of [script, pipeline]) {
      const rider = (await live.nearby(query)).find((r) => r.riderId === riderId);
      assert.deepEqual(rider && { lat: rider.lat, lng: rider.lng, recordedAt: rider.recordedAt }, { ...at, recordedAt: now });
    }
  });

  it('a rider filed in two cells mid-move is listed once, at the nearer entry; riders on one spot come in id order', async () => {
    // A spot far from the fleet, 3 m south of a cell boundary (row 37.61).
    const spot = { lat: 37.61 - 3 / 111_320, lng: 127.1 };
    const point = (riderId: string, lat: number, lng: number) => ({ riderId, lat, lng, recordedAt: now, speed: 2, heading: 0, accuracy: 5, mocked: false });
    for (const id of ['tie-b', 'tie-a', 'tie-c']) await script.setStatus(id, 'available', now);
    await script.apply([point('tie-b', spot.lat, spot.lng), point('tie-a', spot.lat, spot.lng), point('tie-c', spot.lat, spot.lng)]);
    // tie-c moved north into the next cell; its old entry (nearer the query) is still in the first.
    const north = { lat: 37.61 + 40 / 111_320, lng: spot.lng };
    await script.apply([point('tie-c', north.lat, north.lng)].map((p) => ({ ...p, recordedAt: now + 1 })));
    await script.geo.place([{ riderId: 'tie-c', lat: spot.lat, lng: spot.lng, cell: cellId(cellOf(spot.lat, spot.lng)), previousCell: '' }]);
    assert.equal(await platform.redis.zscore(script.keys.cell(cellId(cellOf(north.lat, north.lng))), 'tie-c') !== null, true, 'filed in both cells');
    const query = { ...spot, radiusMeters: 200, limit: 10, now };
    for (const live of [script, pipeline]) {
      const riders = await live.nearby(query);
      assert.deepEqual(riders.map((r) => r.riderId), ['tie-a', 'tie-b', 'tie-c']);
      assert.equal(riders[2]!.distanceMeters, riders[0]!.distanceMeters, 'the nearer (old) entry of tie-c');
      assert.deepEqual({ lat: riders[2]!.lat, lng: riders[2]!.lng }, north, 'its latest position');
    }
  });
});
