import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countdown, createGlide, fitView, glideDuration, haversineMeters, project, toScreen, unproject } from '../dashboards/public/geo.js';
import { classifyRider, densityByCell, diffFleet, packFleet, unpackFleet, type MapRider } from '../domain/ops-map/fleet-view.ts';
import { GANGNAM_STATION } from '../domain/catalogue/seed-data.ts';
import { ConfigError, loadConfig } from '../runtime/config.ts';

const rider = (id: string, over: Partial<MapRider> = {}): MapRider => ({ id, lat: 37.4979, lng: 127.0276, status: 'available', heading: null, at: 1_000, ...over });

describe('ops map view (pure)', () => {
  it('colours riders: on duty while fresh, stale when silent, offline off duty, gone after an hour', () => {
    const now = 10 * 60_000;
    const at = (ago: number, status = 'available') => classifyRider({ status, lat: 37.5, lng: 127, recordedAt: now - ago }, now, 30_000);
    assert.equal(at(1_000), 'available');
    assert.equal(at(1_000, 'busy'), 'busy');
    assert.equal(at(31_000), 'stale');
    assert.equal(at(31_000, 'busy'), 'stale');
    assert.equal(at(31_000, 'offline'), 'offline');
    assert.equal(at(61 * 60_000), undefined);
    assert.equal(classifyRider({ status: 'available', lat: NaN, lng: NaN, recordedAt: 0 }, now, 30_000), undefined);
  });

  it('counts on-duty riders and open orders (by restaurant) per geo-index cell', () => {
    const east = { lat: 37.4979, lng: 127.0276 + 0.0125 };
    const cells = densityByCell(
      [rider('a'), rider('b'), rider('c', { status: 'stale' }), rider('d', { ...east, status: 'busy' })],
      [{ id: 'o1', status: 'COOKING', riderId: null, restaurant: { lat: 37.4979, lng: 127.0276, name: 'x' }, dropoff: east }],
    );
    assert.equal(cells.length, 2);
    assert.deepEqual({ riders: cells[0]!.riders, orders: cells[0]!.orders }, { riders: 2, orders: 1 });
    assert.deepEqual({ riders: cells[1]!.riders, orders: cells[1]!.orders }, { riders: 1, orders: 0 });
    const c = cells[0]!;
    assert.ok(c.south <= 37.4979 && 37.4979 < c.south + c.dLat && c.west <= 127.0276 && 127.0276 < c.west + c.dLng, 'the cell contains its riders');
  });

  it('packs riders in columns, to about a metre, and back', () => {
    const riders = [rider('a', { lat: 37.497912, lng: 127.027644 }), rider('b', { lat: 37.5512, lng: 126.98, status: 'stale' }), rider('c', { status: 'offline' })];
    const packed = packFleet(riders);
    assert.equal(packed.status, '023');
    assert.deepEqual(unpackFleet(packed), [
      { id: 'a', lat: 37.49791, lng: 127.02764, status: 'available' },
      { id: 'b', lat: 37.5512, lng: 126.98, status: 'stale' },
      { id: 'c', lat: 37.4979, lng: 127.0276, status: 'offline' },
    ]);
    const fleet = Array.from({ length: 100 }, (_, i) => rider(`r-${i}`, { lat: 37.4979 + i * 1e-4, lng: 127.0276 - i * 1e-4 }));
    assert.ok(JSON.stringify(packFleet(fleet)).length < JSON.stringify(fleet).length / 3, 'a third of the bytes or less');
    assert.deepEqual(unpackFleet(packFleet([])), []);
  });

  it('sends only what changed between frames', () => {
    const before = new Map([['a', rider('a')], ['b', rider('b')], ['c', rider('c')]]);
    const after = new Map([['a', rider('a')], ['b', rider('b', { at: 2_000, lat: 37.5 })], ['d', rider('d')]]);
    const delta = diffFleet(before, after);
    assert.deepEqual(delta.changed.map((r) => r.id).sort(), ['b', 'd']);
    assert.deepEqual(delta.removed, ['c']);
  });
});

describe('page geometry and marker motion (dashboards/public/geo.js)', () => {
  it('projects to Web Mercator tile space and back', () => {
    const p = project(GANGNAM_STATION.lat, GANGNAM_STATION.lng);
    const back = unproject(p.x, p.y);
    assert.ok(Math.abs(back.lat - GANGNAM_STATION.lat) < 1e-9 && Math.abs(back.lng - GANGNAM_STATION.lng) < 1e-9);
    assert.ok(Math.abs(haversineMeters({ lat: 37.5, lng: 127 }, { lat: 37.51, lng: 127 }) - 1_112) < 2);
  });

  it('fits points inside the surface, padding included', () => {
    const points = [GANGNAM_STATION, { lat: 37.51, lng: 127.04 }];
    const view = fitView(points, 400, 300, 40);
    for (const p of points) {
      const s = toScreen(view, p.lat, p.lng, 400, 300);
      assert.ok(s.x >= 39.9 && s.x <= 360.1 && s.y >= 39.9 && s.y <= 260.1, JSON.stringify(s));
    }
  });

  it('glides to each fix within 0.9 s, without a jump, even when a fix arrives mid-glide', () => {
    const glide = createGlide({ maxMs: 900 });
    glide.target({ lat: 37.5, lng: 127 }, 0);
    assert.deepEqual(glide.at(0), { lat: 37.5, lng: 127 }, 'the first fix is drawn where it is');
    // A fix 3 s later, 222 m north: a 0.9 s glide drawn at 60 frames a second.
    glide.target({ lat: 37.502, lng: 127 }, 3_000);
    assert.deepEqual(glide.at(3_000), { lat: 37.5, lng: 127 }, 'a new fix starts from where the marker is');
    let previous = glide.at(3_000)!;
    let largest = 0;
    for (let t = 3_016; t <= 3_900; t += 16) {
      const now = glide.at(t)!;
      largest = Math.max(largest, haversineMeters(previous, now));
      previous = now;
    }
    const average = 222 / (900 / 16);
    assert.ok(largest < 3.2 * average, `largest step ${largest.toFixed(1)} m, average ${average.toFixed(1)} m`);
    assert.deepEqual(glide.at(3_900), { lat: 37.502, lng: 127 }, 'at the fix 0.9 s after it arrived');

    // The next fix lands mid-glide: the marker turns from where it is drawn, it does not skip.
    glide.target({ lat: 37.503, lng: 127 }, 6_000);
    const mid = glide.at(6_300)!;
    glide.target({ lat: 37.503, lng: 127.002 }, 6_300);
    assert.deepEqual(glide.at(6_300), mid);
    assert.ok(glide.moving(6_300));
    assert.deepEqual(glide.at(6_300 + 900), { lat: 37.503, lng: 127.002 });
    assert.equal(glideDuration(3_000), 900);
    assert.equal(glideDuration(500), 400);
  });

  it('counts down to the ETA', () => {
    assert.equal(countdown(new Date(125_000).toISOString(), 0), '2:05');
    assert.equal(countdown(new Date(1_000).toISOString(), 5_000), null);
    assert.equal(countdown(null, 0), null);
  });
});

describe('MAP_TILE_URL', () => {
  it('is optional, and must be an http(s) URL with {z}, {x} and {y}', () => {
    assert.equal(loadConfig({}).map.tileUrl, null);
    assert.equal(loadConfig({ MAP_TILE_URL: 'https://tiles.example.com/{z}/{x}/{y}.png' }).map.tileUrl, 'https://tiles.example.com/{z}/{x}/{y}.png');
    assert.throws(() => loadConfig({ MAP_TILE_URL: 'https://tiles.example.com/{z}/{x}.png' }), (err: Error) => err instanceof ConfigError && /^invalid MAP_TILE_URL=".*": expected an http\(s\) URL with \{z\}, \{x\} and \{y\}$/.test(err.message));
    assert.throws(() => loadConfig({ MAP_TILE_URL: 'ftp://tiles/{z}/{x}/{y}' }), /invalid MAP_TILE_URL/);
  });
});
