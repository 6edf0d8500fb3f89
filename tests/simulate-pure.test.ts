import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { advance, bearing, gpsFix, offset, randomPointNear, streetPath } from '../cli/simulate/movement.ts';
import { nextArrivalMs, seededRandom } from '../cli/simulate/random.ts';
import { clock, newStats, progressLine, quantile, recordLatency, summary, LATENCY_SAMPLE } from '../cli/simulate/stats.ts';
import { basket, dropoffFor, pickRestaurant, riderStart } from '../cli/simulate/world.ts';
import { HOTSPOTS } from '../cli/simulate/hotspots.ts';
import { GANGNAM_STATION } from '../domain/catalogue/seed-data.ts';
import { evaluateTrack } from '../domain/location/fraud-rules.ts';
import { haversineMeters, type LatLng } from '../domain/location/geo.ts';
import type { LocationPoint } from '../domain/location/point.ts';

describe('simulated movement (pure)', () => {
  it('a seeded run repeats itself', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    assert.deepEqual([a(), a(), a()], [b(), b(), b()]);
    assert.notDeepEqual([seededRandom(1)()], [seededRandom(2)()]);
  });

  it('street paths run along the grid and end exactly at the destination', () => {
    const random = seededRandom(7);
    const to = offset(GANGNAM_STATION, 900, -600);
    const path = streetPath(random, GANGNAM_STATION, to);
    assert.deepEqual(path.at(-1), to);
    let here: LatLng = GANGNAM_STATION;
    for (const corner of path) {
      const h = bearing(here, corner);
      const axis = Math.min(...[0, 90, 180, 270, 360].map((a) => Math.abs(h - a)));
      assert.ok(axis < 0.5, `leg at ${h.toFixed(1)}° runs along a street axis`);
      here = corner;
    }
  });

  it('advances by the distance asked, turning at corners, and says when it arrived', () => {
    const path = [offset(GANGNAM_STATION, 100, 0), offset(GANGNAM_STATION, 100, 100)];
    const first = advance(GANGNAM_STATION, path, 150);
    assert.equal(first.path.length, 1);
    assert.ok(Math.abs(haversineMeters(first.position, offset(GANGNAM_STATION, 100, 50))) < 0.5);
    assert.ok(Math.abs(first.heading! - 90) < 0.5, 'heading east after the corner');
    const rest = advance(first.position, first.path, 500);
    assert.equal(rest.arrived, true);
    assert.ok(Math.abs(rest.moved - 50) < 0.5);
  });

  it('a simulated ride is never mistaken for fraud', () => {
    const random = seededRandom(3);
    let position = GANGNAM_STATION;
    let path = streetPath(random, position, offset(position, 1_500, 1_200));
    const points: LocationPoint[] = [];
    const start = Date.now() - 10 * 60_000;
    for (let s = 0; s < 600; s += 3) {
      const step = advance(position, path, 8 * 3);
      position = step.position;
      path = step.path.length > 0 ? step.path : streetPath(random, position, randomPointNear(random, GANGNAM_STATION, 1_000));
      const fix = gpsFix(random, position, 10);
      points.push({ riderId: 'sim', recordedAt: start + s * 1_000, lat: fix.lat, lng: fix.lng, speed: 8, heading: step.heading, accuracy: 10, mocked: false });
    }
    assert.deepEqual(evaluateTrack({ previous: [], incoming: points, receivedAt: Date.now() }), []);
  });

  it('orders arrive as a Poisson process at the asked rate', () => {
    const random = seededRandom(11);
    let total = 0;
    for (let i = 0; i < 5_000; i++) total += nextArrivalMs(random, 30);
    const mean = total / 5_000;
    assert.ok(Math.abs(mean - 2_000) < 100, `mean gap ${mean.toFixed(0)} ms for 30/min`);
  });
});

describe('simulated world (pure)', () => {
  const restaurants = [
    { id: 'g1', name: 'a', lat: GANGNAM_STATION.lat, lng: GANGNAM_STATION.lng, minOrder: 15_000, open: true },
    { id: 'h1', name: 'b', lat: HOTSPOTS.hongdae!.lat, lng: HOTSPOTS.hongdae!.lng, minOrder: 15_000, open: true },
  ];

  it('a hot spot draws most orders and riders', () => {
    const random = seededRandom(5);
    const world = { restaurants, hotspot: GANGNAM_STATION };
    let hot = 0;
    let near = 0;
    for (let i = 0; i < 1_000; i++) {
      if (pickRestaurant(random, world).id === 'g1') hot += 1;
      if (haversineMeters(riderStart(random, world), GANGNAM_STATION) <= 1_500) near += 1;
    }
    assert.ok(hot > 800, `${hot} of 1000 orders in the hot spot`);
    assert.ok(near > 750, `${near} of 1000 riders start in the hot spot`);
  });

  it('drop-offs are a realistic ride away, and baskets reach the minimum order', () => {
    const random = seededRandom(9);
    for (let i = 0; i < 200; i++) {
      const d = haversineMeters(dropoffFor(random, GANGNAM_STATION), GANGNAM_STATION);
      assert.ok(d >= 299 && d <= 2_501, `${d} m`);
    }
    const menu = [{ id: 'm1', price: 6_000, available: true }, { id: 'm2', price: 9_000, available: true }, { id: 'm3', price: 1, available: false }];
    const lines = basket(random, menu, 20_000);
    const total = lines.reduce((sum, l) => sum + menu.find((m) => m.id === l.menuItemId)!.price * l.quantity, 0);
    assert.ok(total >= 20_000);
    assert.ok(lines.every((l) => l.menuItemId !== 'm3'));
    assert.deepEqual(basket(random, [], 10_000), []);
  });
});

describe('simulation report (pure)', () => {
  it('keeps a bounded latency sample and reports percentiles', () => {
    const stats = newStats(0);
    const random = seededRandom(1);
    for (let i = 1; i <= LATENCY_SAMPLE + 5_000; i++) recordLatency(stats, i % 100, random);
    assert.equal(stats.latenciesMs.length, LATENCY_SAMPLE);
    assert.equal(stats.requests, LATENCY_SAMPLE + 5_000);
    assert.equal(quantile([5, 1, 3, 2, 4], 0.5), 3);
    assert.equal(quantile([], 0.95), 0);
    assert.equal(clock(125_000), '02:05');
  });

  it('prints a live line and a summary', () => {
    const stats = newStats(0);
    stats.orders.placed = 12;
    stats.orders.delivered = 7;
    stats.offers = { seen: 20, accepted: 14, rejected: 2, ignored: 4, lost: 0 };
    stats.errors['409'] = 2;
    stats.deliveryMs.push(300_000, 420_000);
    const line = progressLine(stats, { idle: 3, 'to-restaurant': 2, 'at-restaurant': 1, 'to-customer': 4 }, 65_000, 300_000);
    assert.match(line, /^01:05\/05:00 · riders 10 \(idle 3, pickup 3, delivering 4\) · orders 12 placed, 7 delivered · offers 20 \(14 accepted, 2 rejected, 4 timed out\)/);
    assert.doesNotMatch(line, /\n/);
    const text = summary(stats, 300_000, 3);
    assert.match(text, /12 placed .* 7 delivered · 3 still open/);
    assert.match(text, /median 5\.0 min/);
    assert.match(text, /409 × 2/);
  });
});
