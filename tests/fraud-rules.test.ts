import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateTrack, flaggedPoints, type FraudFinding } from '../domain/location/fraud-rules.ts';
import { EARTH_RADIUS_METERS, routeDistanceMeters } from '../domain/location/geo.ts';
import type { LocationPoint } from '../domain/location/point.ts';

const GANGNAM = { lat: 37.4979, lng: 127.0276 }; // 강남역
const BUSAN = { lat: 35.1151, lng: 129.0422 }; // 부산역
const T0 = Date.UTC(2025, 0, 6, 3, 0, 0); // 12:00 KST, lunch peak
const DEG_LAT_METERS = (EARTH_RADIUS_METERS * Math.PI) / 180; // a degree of latitude, on the haversine sphere
const EAST_METERS = DEG_LAT_METERS * Math.cos((GANGNAM.lat * Math.PI) / 180);

/** A fix `north`/`east` metres from 강남역 at T0 + `sec` seconds. */
function fix(sec: number, north: number, east = 0, extra: Partial<LocationPoint> = {}): LocationPoint {
  return {
    riderId: 'r-7',
    recordedAt: T0 + sec * 1_000,
    lat: GANGNAM.lat + north / DEG_LAT_METERS,
    lng: GANGNAM.lng + east / EAST_METERS,
    speed: 8.3,
    heading: 0,
    accuracy: 8,
    mocked: false,
    ...extra,
  };
}

const keys = (findings: readonly FraudFinding[]) => new Set(findings.map((f) => `${f.rule}@${(f.recordedAt - T0) / 1_000}`));
const only = (findings: readonly FraudFinding[]) => {
  assert.equal(findings.length, 1, JSON.stringify(findings.map((f) => f.rule)));
  return findings[0]!;
};

/** Batches through the rule the way a worker does: each call knows everything stored before it. */
function deliver(batches: LocationPoint[][], receivedAt: number): Set<string> {
  const previous: LocationPoint[] = [];
  const union = new Set<string>();
  for (const incoming of batches) {
    for (const key of keys(evaluateTrack({ previous, incoming, receivedAt }))) union.add(key);
    previous.push(...incoming);
  }
  return union;
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  const random = () => ((s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('fraud rules', () => {
  it('a normal ride at 30 km/h, a fix every 5 s, is clean', () => {
    const ride = Array.from({ length: 20 }, (_, i) => fix(i * 5, i * 41.7, 0, { speed: 8.33 }));
    assert.deepEqual(evaluateTrack({ previous: [], incoming: ride, receivedAt: T0 + 100_000 }), []);
  });

  it('5 km in 1 s is a teleport: critical, alerted, flagged', () => {
    const f = only(evaluateTrack({ previous: [fix(0, 0)], incoming: [fix(1, 5_000)], receivedAt: T0 + 2_000 }));
    assert.equal(f.rule, 'teleport');
    assert.equal(f.severity, 'critical');
    assert.equal(f.alert, true);
    assert.equal(f.recordedAt, T0 + 1_000);
    assert.deepEqual(f.evidence.map((p) => p.recordedAt), [T0, T0 + 1_000]);
    assert.match(f.detail, /^5\.0 km in 1\.0 s = 18,000 km\/h/);
    assert.deepEqual(flaggedPoints([f]), new Set([T0 + 1_000]));
  });

  it('over-speed below the teleport distance, or over a longer gap, is impossible-speed', () => {
    const short = only(evaluateTrack({ previous: [fix(0, 0)], incoming: [fix(3, 600)], receivedAt: T0 + 5_000 }));
    assert.equal(short.rule, 'impossible-speed');
    assert.equal(short.severity, 'critical');
    assert.match(short.detail, /600 m in 3\.0 s = 720 km\/h/);
    const long = only(evaluateTrack({ previous: [fix(0, 0)], incoming: [fix(60, 5_000)], receivedAt: T0 + 61_000 }));
    assert.equal(long.rule, 'impossible-speed');
    assert.match(long.detail, /5\.0 km in 60\.0 s = 300 km\/h/);
  });

  it('GPS jitter between fixes a second apart is forgiven up to their accuracy', () => {
    assert.deepEqual(evaluateTrack({ previous: [fix(0, 0, 0, { accuracy: 30 })], incoming: [fix(1, 40, 0, { accuracy: 30 })], receivedAt: T0 + 2_000 }), []);
    assert.equal(only(evaluateTrack({ previous: [fix(0, 0, 0, { accuracy: 3 })], incoming: [fix(1, 40, 0, { accuracy: 3 })], receivedAt: T0 + 2_000 })).rule, 'impossible-speed');
  });

  it('a spoofed jump to Busan and back is two teleports, and the route skips both', () => {
    const trip = [fix(0, 0), fix(3, 25), { ...fix(6, 50), ...BUSAN }, fix(9, 75), fix(12, 100)];
    const findings = evaluateTrack({ previous: trip.slice(0, 2), incoming: trip.slice(2), receivedAt: T0 + 13_000 });
    assert.deepEqual(keys(findings), new Set(['teleport@6', 'teleport@9']));
    assert.match(findings[0]!.detail, /^32\d\.\d km in 3\.0 s/);
    const flagged = flaggedPoints(findings);
    const route = trip.map((p) => ({ ...p, flagged: flagged.has(p.recordedAt) }));
    assert.ok(Math.abs(routeDistanceMeters(route, { excludeFlagged: true }) - 100) < 0.5);
    assert.ok(routeDistanceMeters(route, { excludeFlagged: false }) > 600_000);
  });

  it('a mock location is critical; poor accuracy is info only, not alerted, not flagged', () => {
    const mocked = only(evaluateTrack({ previous: [fix(0, 0)], incoming: [fix(3, 25, 0, { mocked: true })], receivedAt: T0 + 4_000 }));
    assert.deepEqual([mocked.rule, mocked.severity, mocked.alert], ['mocked-location', 'critical', true]);
    const poor = only(evaluateTrack({ previous: [fix(0, 0)], incoming: [fix(3, 25, 0, { accuracy: 250 })], receivedAt: T0 + 4_000 }));
    assert.deepEqual([poor.rule, poor.severity, poor.alert], ['poor-accuracy', 'info', false]);
    assert.equal(flaggedPoints([poor]).size, 0);
  });

  it('identical fixes while reporting speed are frozen; waiting at a restaurant is not', () => {
    const frozen = [fix(0, 0), fix(3, 25), fix(6, 25), fix(9, 25), fix(12, 25)];
    const findings = evaluateTrack({ previous: [], incoming: frozen, receivedAt: T0 + 13_000 });
    assert.deepEqual(keys(findings), new Set(['frozen-coordinates@9', 'frozen-coordinates@12']));
    assert.deepEqual(findings.map((f) => [f.severity, f.alert]), [['warning', true], ['warning', false]]);
    assert.deepEqual(findings[0]!.evidence.map((p) => p.recordedAt), [T0 + 3_000, T0 + 6_000, T0 + 9_000]);
    const waiting = frozen.map((p, i) => (i === 0 ? p : { ...p, speed: 0 }));
    assert.deepEqual(evaluateTrack({ previous: [], incoming: waiting, receivedAt: T0 + 13_000 }), []);
  });

  it('a fix from the future is flagged; small clock skew is not', () => {
    const receivedAt = T0 + 10_000;
    const f = only(evaluateTrack({ previous: [fix(0, 0)], incoming: [fix(300, 25_000)], receivedAt })); // not also speeding: its time is not believed
    assert.deepEqual([f.rule, f.severity, f.alert], ['future-timestamp', 'warning', true]);
    assert.ok(flaggedPoints([f]).has(T0 + 300_000));
    assert.deepEqual(evaluateTrack({ previous: [fix(0, 0)], incoming: [fix(30, 25)], receivedAt }), []);
    // Once stored, a future fix neither makes the next honest fix "backwards" nor is paired with it.
    assert.deepEqual(evaluateTrack({ previous: [fix(0, 0), fix(300, 25_000)], incoming: [fix(3, 25)], receivedAt }), []);
  });

  it('a clock jumping back is flagged without blaming its neighbours; a late batch is not', () => {
    const known = Array.from({ length: 120 }, (_, i) => fix(i * 3, i * 25));
    const receivedAt = T0 + 360_000;
    // Five minutes back in time, but at the rider's current position: 3 km from the fixes of then.
    const jumped = only(evaluateTrack({ previous: known, incoming: [fix(58.5, 2_990)], receivedAt }));
    assert.deepEqual([jumped.rule, jumped.severity, jumped.alert], ['backwards-timestamp', 'warning', true]);
    assert.deepEqual(jumped.evidence.map((p) => p.recordedAt), [T0 + 58_500, T0 + 357_000]);
    const lateBatch = [fix(310.5, 310.5 * 25 / 3), fix(316.5, 316.5 * 25 / 3)];
    assert.deepEqual(evaluateTrack({ previous: known, incoming: lateBatch, receivedAt }), []);
  });

  it('duplicates are ignored, and the same batch twice gives nothing new', () => {
    const batch = [fix(0, 0), fix(3, 25), fix(6, 25_000)];
    const first = evaluateTrack({ previous: [], incoming: [...batch, fix(3, 25)], receivedAt: T0 + 7_000 });
    assert.deepEqual(keys(first), new Set(['teleport@6']));
    assert.deepEqual(evaluateTrack({ previous: batch, incoming: batch, receivedAt: T0 + 7_000 }), []);
    // A second copy of a known fix with other coordinates does not replace it.
    assert.deepEqual(evaluateTrack({ previous: batch, incoming: [{ ...fix(6, 50) }], receivedAt: T0 + 7_000 }), []);
  });

  it('refuses points from two riders', () => {
    assert.throws(() => evaluateTrack({ previous: [fix(0, 0)], incoming: [{ ...fix(3, 25), riderId: 'r-8' }], receivedAt: T0 }), RangeError);
  });

  describe('the same trace in any delivery order', () => {
    // 51 s of riding (every reorder stays inside the 60 s backwards tolerance) plus one future fix.
    const trace: LocationPoint[] = [];
    for (let i = 0; i <= 17; i++) {
      const north = Math.min(i, 13) * 25 + (i === 17 ? 25 : 0); // fixes 14-16 repeat fix 13 exactly
      const east = i >= 11 ? 600 : 0; // at fix 11 the phone jumps 600 m east and stays there
      if (i === 5) trace.push({ ...fix(i * 3, north), ...BUSAN });
      else trace.push(fix(i * 3, north, east, { mocked: i === 8, accuracy: i === 9 ? 300 : 8 }));
    }
    trace.push(fix(200, 450, 600));
    const receivedAt = T0 + 52_000;
    const expected = new Set([
      'teleport@15', 'teleport@18', 'mocked-location@24', 'poor-accuracy@27', 'impossible-speed@33',
      'frozen-coordinates@45', 'frozen-coordinates@48', 'future-timestamp@200',
    ]);

    it('in order, in one batch', () => assert.deepEqual(deliver([trace], receivedAt), expected));

    it('reversed, in three batches', () => {
      const reversed = [...trace].reverse();
      assert.deepEqual(deliver([reversed.slice(0, 7), reversed.slice(7, 13), reversed.slice(13)], receivedAt), expected);
    });

    it('shuffled in one batch, with duplicates', () => {
      for (const seed of [1, 2, 3]) {
        const batch = shuffled([...trace, trace[3]!, trace[15]!], seed);
        assert.deepEqual(deliver([batch], receivedAt), expected, `seed ${seed}`);
      }
    });

    it('shuffled inside batches that arrive out of order, with re-sent points', () => {
      const [a, b, c] = [trace.slice(0, 6), trace.slice(6, 12), trace.slice(12)];
      const batches = [shuffled(b, 4), shuffled([...c, b[5]!], 5), shuffled([...a, b[0]!], 6)];
      assert.deepEqual(deliver(batches, receivedAt), expected);
    });

    it('one fix at a time in random order: nothing is missed (a filled gap may leave an extra finding)', () => {
      for (const seed of [7, 8, 9]) {
        const union = deliver(shuffled(trace, seed).map((p) => [p]), receivedAt);
        for (const key of expected) assert.ok(union.has(key), `seed ${seed}: missing ${key}`);
      }
    });
  });
});

describe('route distance', () => {
  // Four fixes 0.0009° apart along the meridian through 강남역: about 100 m each.
  const step = 0.0009;
  const route = [0, 1, 2, 3].map((i) => ({ recordedAt: T0 + i * 3_000, lat: GANGNAM.lat + i * step, lng: GANGNAM.lng }));
  // Haversine by hand: with no change in longitude, 2R·asin(sin(Δφ/2)) is just R·Δφ.
  const segment = EARTH_RADIUS_METERS * ((step * Math.PI) / 180);

  it('sums consecutive haversine distances in time order', () => {
    assert.ok(Math.abs(segment - 100.08) < 0.01, String(segment));
    assert.ok(Math.abs(routeDistanceMeters([...route].reverse(), { excludeFlagged: true }) - 3 * segment) < 0.5);
    assert.ok(Math.abs(routeDistanceMeters([...route, route[1]!], { excludeFlagged: false }) - 3 * segment) < 0.5);
  });

  it('joins the neighbours of a flagged spike', () => {
    const spike = { recordedAt: T0 + 4_500, lat: GANGNAM.lat + 1.5 * step, lng: GANGNAM.lng + 0.01, flagged: true };
    assert.ok(Math.abs(routeDistanceMeters([...route, spike], { excludeFlagged: true }) - 3 * segment) < 0.5);
    assert.ok(routeDistanceMeters([...route, spike], { excludeFlagged: false }) > 3 * segment + 1_500);
  });
});
