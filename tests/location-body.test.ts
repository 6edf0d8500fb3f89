import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { locationBody, quickLocationBody } from '../api/routes/location-body.ts';

/**
 * The hand-written fast path for location bodies may only accept what the zod schema accepts,
 * and must return exactly what zod returns. Bodies go through JSON, as they do over HTTP.
 */
describe('location body fast path agrees with the schema', () => {
  const now = Date.now();
  const iso = (offsetMs: number) => new Date(now + offsetMs).toISOString();
  const good = { lat: 37.4979, lng: 127.0276, recordedAt: iso(-2_000), speed: 4.2, heading: 90, accuracy: 8, mocked: false };

  const check = (body: unknown) => {
    const json = JSON.parse(JSON.stringify(body));
    const quick = quickLocationBody(json);
    const zod = locationBody.safeParse(JSON.parse(JSON.stringify(body)));
    if (quick !== undefined) {
      assert.ok(zod.success, `fast path accepted what zod rejects: ${JSON.stringify(body)} → ${JSON.stringify(zod.error?.issues)}`);
      assert.deepEqual(quick, zod.data);
      assert.deepEqual(Object.keys(quick.points[0] ?? {}), Object.keys(zod.data.points[0] ?? {}), 'same keys in the same order');
    }
    return { quick, zod };
  };

  it('takes the common bodies itself, with what zod returns', () => {
    const bodies = [
      { points: [good] },
      { points: [{ lat: 37.5, lng: 127, recordedAt: iso(-1_000) }] },
      { points: [{ ...good, speed: null, heading: null, accuracy: null }] },
      { points: [{ ...good, extra: 'dropped' }], other: 1 },
      { points: [{ ...good, recordedAt: iso(-60_000).replace('Z', '+00:00') }] },
      // The same instant written in Seoul time.
      { points: [{ ...good, recordedAt: new Date(now - 60_000 + 9 * 3600_000).toISOString().replace('Z', '+09:00') }] },
      { points: Array.from({ length: 500 }, (_, i) => ({ ...good, recordedAt: iso(-i * 1_000) })) },
      { points: [{ lat: -90, lng: -180, recordedAt: iso(29_000), speed: 0, heading: 0, accuracy: 0, mocked: true }] },
      { points: [{ lat: 90, lng: 180, recordedAt: iso(-24 * 3600_000 + 60_000), speed: 150, heading: 360, accuracy: 100_000 }] },
    ];
    for (const body of bodies) {
      const { quick, zod } = check(body);
      assert.ok(zod.success, JSON.stringify(zod.error?.issues));
      assert.ok(quick, `fast path took ${JSON.stringify(body).slice(0, 200)}`);
    }
  });

  it('never accepts what zod rejects', () => {
    const wrong: Record<string, unknown[]> = {
      lat: [91, -90.0001, '37.5', null, true, [], {}],
      lng: [180.5, -181, '127', null],
      recordedAt: [
        '2026-11-23T12:00:00', // no offset
        '2026-11-23 12:00:00Z',
        '2026-11-23T12:00Z', // no seconds
        '2026-11-23T24:00:00Z',
        '2026-11-23T12:00:00+24:00',
        '2025-02-29T12:00:00Z',
        '2026-11-23T12:00:00z',
        iso(31_000),
        iso(3600_000),
        iso(-24 * 3600_000 - 60_000),
        1_764_000_000_000,
        null,
        '',
      ],
      speed: [-1, 150.01, '5', true, {}],
      heading: [-0.1, 360.5, 'north'],
      accuracy: [-3, 100_001, '8'],
      mocked: [null, 'yes', 0, 1],
    };
    let rejectedByZod = 0;
    for (const [field, values] of Object.entries(wrong)) {
      for (const value of values) {
        for (const body of [{ points: [{ ...good, [field]: value }] }, { points: [good, good, { ...good, [field]: value }] }]) {
          const { quick, zod } = check(body);
          if (!zod.success) rejectedByZod++;
          if (!zod.success) assert.equal(quick, undefined, `${field}=${JSON.stringify(value)}`);
        }
      }
    }
    assert.ok(rejectedByZod > 60, 'most of these are wrong');
    const { lat: _lat, ...noLat } = good;
    const { recordedAt: _at, ...noTime } = good;
    const shapes = [
      undefined,
      null,
      [],
      'points',
      {},
      { points: [] },
      { points: {} },
      { points: 'x' },
      { points: [null] },
      { points: [[37.5, 127]] },
      { points: [noLat] },
      { points: [noTime] },
      { points: Array.from({ length: 501 }, () => good) },
    ];
    for (const body of shapes) {
      const { quick, zod } = check(body ?? null);
      assert.equal(zod.success, false, JSON.stringify(body));
      assert.equal(quick, undefined, JSON.stringify(body));
    }
  });

  it('agrees with zod on random bodies', () => {
    // A small deterministic generator: mostly valid fields, sometimes a wrong one.
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
    const number = (min: number, max: number) => pick([min, max, min - 1, max + 1, min + random() * (max - min), -0, 0.5, '1', null]);
    let accepted = 0;
    for (let n = 0; n < 2_000; n++) {
      const points = Array.from({ length: 1 + Math.floor(random() * 4) }, () => {
        const p: Record<string, unknown> = {
          lat: random() < 0.9 ? 37 + random() : number(-90, 90),
          lng: random() < 0.9 ? 127 + random() : number(-180, 180),
          recordedAt: random() < 0.9 ? iso(-Math.floor(random() * 86_000_000)) : pick([iso(40_000), '2026-01-01T00:00:00', iso(-90_000_000), 5]),
        };
        if (random() < 0.5) p.speed = random() < 0.8 ? random() * 30 : number(0, 150);
        if (random() < 0.5) p.heading = random() < 0.8 ? random() * 360 : number(0, 360);
        if (random() < 0.5) p.accuracy = random() < 0.8 ? random() * 50 : number(0, 100_000);
        if (random() < 0.3) p.mocked = pick([true, false, false, null, 'no']);
        return p;
      });
      const { quick, zod } = check({ points });
      if (quick) accepted++;
      // Whatever zod accepts here is an ordinary body, which the fast path should take too.
      if (zod.success) assert.ok(quick, `fast path fell back on a valid body: ${JSON.stringify(points)}`);
    }
    assert.ok(accepted > 200, `${accepted} accepted`);
  });
});
