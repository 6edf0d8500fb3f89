import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { around, GANGNAM_STATION, seeded } from '../bench/support/hot-spot.ts';
import { haversineMeters } from '../domain/location/geo.ts';

/** bench/support/hot-spot.ts: the riders bench/dispatch and its neighbours load. */
describe('bench: the hot spot\'s random numbers', () => {
  it('draw 200,000 numbers in [0, 1) that do not cycle, the same for the same seed', () => {
    const random = seeded();
    const draws = Array.from({ length: 200_000 }, () => random());
    assert.ok(draws.every((x) => x >= 0 && x < 1));
    // 32-bit values: a few dozen chance repeats at most (the old generator cycled every 10,466 draws).
    assert.ok(new Set(draws).size > draws.length - 50, `distinct draws: ${new Set(draws).size}`);
    const again = seeded();
    assert.deepEqual(Array.from({ length: 5 }, () => again()), draws.slice(0, 5));
    assert.notDeepEqual(Array.from({ length: 5 }, seeded(7)), draws.slice(0, 5), 'another seed, another sequence');
  });

  it('spread 50,000 riders over distinct spots, uniformly over the circle', () => {
    const random = seeded();
    const riders = Array.from({ length: 50_000 }, () => around(random, GANGNAM_STATION, 1_000));
    assert.equal(new Set(riders.map((p) => `${p.lat},${p.lng}`)).size, riders.length, 'no two riders on the same spot');
    // Uniform over the disc: a quarter of them within half the radius.
    const inner = riders.filter((p) => haversineMeters(p, GANGNAM_STATION) <= 500).length / riders.length;
    assert.ok(Math.abs(inner - 0.25) < 0.01, `share within 500 m: ${inner}`);
  });
});
