import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { copyPoints, markFlagged, trackMinutes, trackPoints, trackPointsOfRides } from '../db/location-history-repository.ts';
import { dropExpiredPartitions, ensurePartitions, partitionName, RAW, ROLLUPS } from '../db/location-partitions.ts';
import { rollUpMinutes, rollupProgress } from '../db/location-rollups-repository.ts';
import type { Knex } from '../db/knex.ts';
import type { LocationPoint } from '../domain/location/point.ts';
import type { JobContext } from '../jobs/job-definition.ts';
import { locationPartitions } from '../jobs/location-partitions.ts';
import { locationRollup } from '../jobs/location-rollup.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const R = 6_371_008.8;
const started = Math.floor(Date.now() / MIN) * MIN;
const rad = (deg: number) => (deg * Math.PI) / 180;
const riderId = () => `rider-${randomUUID().slice(0, 8)}`;

function point(rider: string, recordedAt: number, lat: number, lng = 127.0, speed: number | null = null): LocationPoint {
  return { riderId: rider, recordedAt, lat, lng, speed, heading: 90, accuracy: 5, mocked: false };
}

/** The textbook haversine, written independently of the SQL one. */
function haversine(a: LocationPoint, b: LocationPoint): number {
  const h = Math.sin(rad(b.lat - a.lat) / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(rad(b.lng - a.lng) / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(h));
}

const setProgress = (db: Knex, lastMinute: number | null) =>
  db('location_rollup_progress').where({ id: 1 }).update({ last_minute: lastMinute === null ? null : new Date(lastMinute) });

async function children(db: Knex, parent: string): Promise<string[]> {
  const { rows } = await db.raw(
    'SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = ?::regclass ORDER BY 1',
    [parent],
  );
  return rows.map((r: { relname: string }) => r.relname);
}

describe('location history: COPY ingest and rollups', () => {
  let p: TestPlatform;
  before(async () => {
    p = await createTestPlatform();
  });
  after(async () => {
    await p.cleanup();
  });

  it('stores each (rider, recordedAt) once, however often a batch is sent', async () => {
    // Tab, newline, backslash and quotes must survive COPY's text format.
    const rider = `r\t"x",\\y\n${randomUUID().slice(0, 6)}`;
    const at = started - 20 * MIN;
    const batch = Array.from({ length: 10 }, (_, i) => ({ ...point(rider, at + i * 5_000, 37.5 + i * 1e-4), mocked: i === 3, speed: i === 0 ? null : 4.5 }));
    assert.equal(await copyPoints(p.db, batch), 10);
    assert.equal(await copyPoints(p.db, batch), 0);
    const newer = Array.from({ length: 5 }, (_, i) => point(rider, at + (10 + i) * 5_000, 37.6));
    // Five already stored, five new, and one duplicated inside the batch itself.
    assert.equal(await copyPoints(p.db, [...batch.slice(5), ...newer, newer[0]!]), 5);

    const track = await trackPoints(p.db, rider, at, at + HOUR);
    assert.equal(track.length, 15);
    assert.deepEqual(track.map((t) => t.recordedAt), [...batch, ...newer].map((b) => b.recordedAt));
    assert.deepEqual(track[0], { ...batch[0], flagged: false });
    assert.equal(track[3]!.mocked, true);
    assert.equal(track[1]!.speed, 4.5);
  });

  it('reads several rides in one statement as one read each would (windows of one rider, other riders, none)', async () => {
    const [a, b] = [riderId(), riderId()];
    const at = started - 30 * MIN;
    await copyPoints(p.db, [...Array.from({ length: 12 }, (_, i) => point(a, at + i * 5_000, 37.5 + i * 1e-4)), ...Array.from({ length: 4 }, (_, i) => point(b, at + i * 5_000, 37.4))]);
    await markFlagged(p.db, a, [at + 10_000]);
    const rides = [
      { riderId: a, from: at, to: at + 30_000 },
      { riderId: b, from: at, to: at + HOUR },
      { riderId: a, from: at + 30_000, to: at + HOUR },
      { riderId: riderId(), from: at, to: at + HOUR },
    ];
    const together = await trackPointsOfRides(p.db, rides);
    assert.deepEqual(together.map((t) => t.length), [6, 4, 6, 0]);
    for (const [i, r] of rides.entries()) assert.deepEqual(together[i], await trackPoints(p.db, r.riderId, r.from, r.to));
    assert.deepEqual((await trackPointsOfRides(p.db, rides.slice(0, 1), 2)).map((t) => t.map((x) => x.recordedAt)), [[at, at + 5_000]], 'at most `limit` a ride, oldest first');
    assert.deepEqual(await trackPointsOfRides(p.db, []), []);
  });

  it('rejects bad numbers before writing, and a batch outside the partitions as a whole', async () => {
    const rider = riderId();
    await assert.rejects(copyPoints(p.db, [point(rider, started - MIN, Number.NaN)]), RangeError);
    const inside = point(rider, started - MIN, 37.5);
    const outside = point(rider, started + 30 * DAY, 37.5);
    await assert.rejects(copyPoints(p.db, [inside, outside]), /no partition/);
    assert.equal((await trackPoints(p.db, rider, started - HOUR, started + HOUR)).length, 0);
  });

  it('marks points as flagged', async () => {
    const rider = riderId();
    const at = started - 10 * MIN;
    await copyPoints(p.db, [point(rider, at, 37.5), point(rider, at + 5_000, 37.5)]);
    assert.equal(await markFlagged(p.db, rider, [at + 5_000, at + 99_000]), 1);
    assert.deepEqual((await trackPoints(p.db, rider, at, at + MIN)).map((t) => t.flagged), [false, true]);
  });

  it('rolls minutes up to the hand-computed distance, counts and speeds', async () => {
    // A rider heading due north along 127°E, one fix every 5 s for three minutes. Fix 14 is a
    // flagged 11 km jump and fix 35 (the last) is flagged too; two fixes report a speed.
    const rider = riderId();
    const base = started - 30 * MIN;
    const pts = Array.from({ length: 36 }, (_, i) => point(rider, base + i * 5_000, i === 14 ? 37.6 : 37.5 + i * 1e-4, 127.0, i === 20 ? 9.5 : i === 30 ? 1 : null));
    const flagged = new Set([14, 35]);
    const parked = riderId();
    await copyPoints(p.db, [...pts, point(parked, base + 1_000, 37.4), point(parked, base + 2_000, 37.4)]);
    await markFlagged(p.db, rider, [...flagged].map((i) => pts[i]!.recordedAt));

    await setProgress(p.db, base - 2 * MIN);
    const run = await rollUpMinutes(p.db, { now: base + 10 * MIN, maxMinutes: 60 });
    assert.deepEqual({ from: run.from, to: run.to, caughtUp: run.caughtUp }, { from: base - MIN, to: base + 9 * MIN, caughtUp: true });
    assert.equal(await rollupProgress(p.db), base + 8 * MIN);

    // Expected, by hand: each segment between consecutive unflagged fixes counts in the minute it ends.
    const good = pts.filter((_, i) => !flagged.has(i));
    const expected = [0, 1, 2].map(() => ({ distance: 0, maxSpeed: 0, count: 0, flaggedCount: 0 }));
    pts.forEach((pt, i) => {
      const e = expected[Math.floor((pt.recordedAt - base) / MIN)]!;
      e.count += 1;
      if (flagged.has(i)) e.flaggedCount += 1;
    });
    good.forEach((pt, k) => {
      const e = expected[Math.floor((pt.recordedAt - base) / MIN)]!;
      const prev = good[k - 1];
      const d = prev ? haversine(prev, pt) : 0;
      e.distance += d;
      const speed = pt.speed ?? (prev ? d / ((pt.recordedAt - prev.recordedAt) / 1000) : 0);
      e.maxSpeed = Math.max(e.maxSpeed, speed);
    });
    // Along a meridian the haversine is just R·Δφ, which pins the formula itself down.
    const lat = (i: number) => pts[i]!.lat;
    assert.ok(Math.abs(expected[0]!.distance - R * rad(lat(11) - lat(0))) < 1e-6);
    assert.ok(Math.abs(expected[1]!.distance - R * rad(lat(23) - lat(11))) < 1e-6);
    assert.ok(Math.abs(expected[2]!.distance - R * rad(lat(34) - lat(23))) < 1e-6);

    const minutes = await trackMinutes(p.db, rider, base - HOUR, base + HOUR);
    assert.deepEqual(minutes.map((m) => m.minute), [base, base + MIN, base + 2 * MIN]);
    minutes.forEach((m, k) => {
      const e = expected[k]!;
      assert.ok(Math.abs(m.distanceM - e.distance) < 1e-6, `minute ${k}: ${m.distanceM} m, expected ${e.distance} m`);
      assert.ok(Math.abs(m.maxSpeed! - e.maxSpeed) < 1e-4, `minute ${k}: ${m.maxSpeed} m/s, expected ${e.maxSpeed} m/s`);
      assert.equal(m.pointCount, e.count);
      assert.equal(m.flaggedCount, e.flaggedCount);
    });
    assert.deepEqual(minutes.map((m) => m.pointCount), [12, 12, 12]);
    assert.equal(minutes[1]!.maxSpeed, 9.5);
    assert.ok(minutes[1]!.distanceM < 140, 'the flagged jump adds no distance');
    // The last position skips a flagged fix.
    assert.deepEqual([minutes[2]!.lastLat, minutes[2]!.lastRecordedAt], [lat(34), pts[34]!.recordedAt]);
    assert.deepEqual([minutes[1]!.lastLat, minutes[1]!.lastLng], [lat(23), 127.0]);

    const [still] = await trackMinutes(p.db, parked, base, base + HOUR);
    assert.deepEqual([still!.pointCount, still!.distanceM, still!.maxSpeed], [2, 0, 0]);

    // Rolling the same minutes again recomputes them in place.
    await setProgress(p.db, base - 2 * MIN);
    await rollUpMinutes(p.db, { now: base + 10 * MIN });
    assert.deepEqual(await trackMinutes(p.db, rider, base - HOUR, base + HOUR), minutes);
  });

  it('catches up after downtime in bounded runs, with the same result as one big run', async () => {
    const rider = riderId();
    const first = started - 200 * MIN;
    // A fix every 20 s for 195 minutes, wandering north-east, so segments cross every run boundary.
    const pts = Array.from({ length: 585 }, (_, i) => point(rider, first + i * 20_000, 37.5 + i * 2e-4, 127.0 + (i % 7) * 1e-4));
    await copyPoints(p.db, pts);

    const now = started;
    await setProgress(p.db, now - 23 * HOUR);
    const closedEnd = Math.floor((now - MIN) / MIN) * MIN;
    const owed = (closedEnd - (now - 23 * HOUR + MIN)) / MIN;
    let runs = 0;
    for (let caughtUp = false; !caughtUp; runs += 1) {
      const run = await rollUpMinutes(p.db, { now, maxMinutes: 60 });
      assert.ok(run.minutes > 0 && run.minutes <= 60);
      caughtUp = run.caughtUp;
    }
    assert.equal(runs, Math.ceil(owed / 60));
    assert.equal(await rollupProgress(p.db), closedEnd - MIN);
    assert.equal((await rollUpMinutes(p.db, { now })).minutes, 0);

    const chunked = await trackMinutes(p.db, rider, first - HOUR, now);
    assert.equal(chunked.length, 195);
    assert.equal(chunked.reduce((n, m) => n + m.pointCount, 0), 585);
    const total = pts.slice(1).reduce((sum, pt, i) => sum + haversine(pts[i]!, pt), 0);
    assert.ok(Math.abs(chunked.reduce((s, m) => s + m.distanceM, 0) - total) < 1e-6);

    await setProgress(p.db, now - 23 * HOUR);
    const once = await rollUpMinutes(p.db, { now, maxMinutes: 24 * 60 });
    assert.equal(once.caughtUp, true);
    assert.deepEqual(await trackMinutes(p.db, rider, first - HOUR, now), chunked);
  });

  it('skips minutes older than raw retention instead of scanning them', async () => {
    await setProgress(p.db, started - 3 * DAY);
    const run = await rollUpMinutes(p.db, { now: started, maxMinutes: 1 });
    assert.equal(run.from, started - DAY);
  });

  it('runs as jobs with their default payloads', async () => {
    const ctx = { db: p.db, logger: p.logger } as unknown as JobContext;
    await setProgress(p.db, null);
    const rolled = (await locationRollup.handler(locationRollup.payload.parse({}), ctx)) as { minutes: number };
    assert.equal(rolled.minutes, 60);
    const changed = (await locationPartitions.handler(locationPartitions.payload.parse({}), ctx)) as { dropped: string[] };
    // The migration made the hour 25 h back, which is now past retention.
    assert.ok(changed.dropped.includes(partitionName(RAW, Math.floor(Date.now() / HOUR) * HOUR - 25 * HOUR)));
  });
});

describe('location history: partitions', () => {
  let p: TestPlatform;
  before(async () => {
    p = await createTestPlatform();
  });
  after(async () => {
    await p.cleanup();
  });

  it('creates partitions ahead, concurrently, and drops expired ones whole', async () => {
    const original = { raw: await children(p.db, 'rider_locations'), rollups: await children(p.db, 'rider_location_rollups') };
    assert.equal(original.raw.length, 29);
    assert.equal(original.rollups.length, 11);

    // Ten days later: three processes boot at once.
    const later = started + 10 * DAY;
    const results = await Promise.all([1, 2, 3].map(() => ensurePartitions(p.db, later)));
    const created = results.flat();
    assert.equal(new Set(created).size, created.length, 'each partition is reported by one process only');
    const laterHour = Math.floor(later / HOUR) * HOUR;
    const laterDay = Math.floor(later / DAY) * DAY;
    const expectedRaw = Array.from({ length: 28 }, (_, i) => partitionName(RAW, laterHour + (i - 24) * HOUR));
    const expectedRollups = Array.from({ length: 10 }, (_, i) => partitionName(ROLLUPS, laterDay + (i - 7) * DAY));
    assert.deepEqual(created.sort(), [...expectedRaw, ...expectedRollups].sort());
    assert.deepEqual(await ensurePartitions(p.db, later), []);

    // Rows in a partition that survives, and in one that will be dropped.
    const rider = riderId();
    await copyPoints(p.db, [point(rider, later, 37.5), point(rider, later + 1_000, 37.5), point(rider, started - MIN, 37.5)]);
    const survivor = partitionName(RAW, laterHour);
    const count = async () => (await p.db.raw('SELECT count(*)::int AS n FROM ??', [survivor])).rows[0].n as number;
    assert.equal(await count(), 2);

    const dropped = await dropExpiredPartitions(p.db, later);
    assert.deepEqual(dropped.sort(), [...original.raw, ...original.rollups].sort());
    assert.deepEqual(await children(p.db, 'rider_locations'), [...expectedRaw].sort());
    assert.deepEqual(await children(p.db, 'rider_location_rollups'), [...expectedRollups].sort());
    for (const name of dropped) {
      const { rows } = await p.db.raw('SELECT to_regclass(?) AS oid', [name]);
      assert.equal(rows[0].oid, null, `${name} is dropped, not just detached`);
    }
    // Retention removed tables, never rows.
    assert.equal(await count(), 2);
    assert.deepEqual(await dropExpiredPartitions(p.db, later), []);
    // With the old hours gone, a write there fails loudly instead of landing somewhere else.
    await assert.rejects(copyPoints(p.db, [point(rider, started, 37.5)]), /no partition/);
  });
});
