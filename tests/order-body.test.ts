import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { orderBody, quickOrderBody } from '../api/routes/order-body.ts';
import { nearbyQuery, quickNearbyQuery } from '../api/routes/nearby-query.ts';
import { parse } from 'node:querystring';

/**
 * The hand-written fast paths of POST /v1/orders and GET /v1/group-orders may only accept what
 * their zod schemas accept, and must return exactly what zod returns (keys in the same order).
 */
describe('order body fast path agrees with the schema', () => {
  const good = { restaurantId: 'rest-1', items: [{ menuItemId: 'menu-1', quantity: 2 }], dropoff: { lat: 37.4979, lng: 127.0276, address: '서울 강남구 테헤란로 152' } };
  const check = (body: unknown) => {
    const quick = quickOrderBody(JSON.parse(JSON.stringify(body)));
    const zod = orderBody.safeParse(JSON.parse(JSON.stringify(body)));
    if (quick !== undefined) {
      assert.ok(zod.success, `fast path accepted what zod rejects: ${JSON.stringify(body)}`);
      assert.equal(JSON.stringify(quick), JSON.stringify(zod.data), 'same value, same keys in the same order');
    }
    return { quick, zod };
  };

  it('takes the common bodies itself, with what zod returns', () => {
    const bodies = [
      good,
      { ...good, extra: 1, items: [{ menuItemId: 'm', quantity: 1, note: 'dropped' }], dropoff: { ...good.dropoff, floor: 3 } },
      { ...good, dropoff: { ...good.dropoff, address: '  trimmed  ' } },
      { ...good, items: Array.from({ length: 50 }, (_, i) => ({ menuItemId: `m-${i}`, quantity: 50 })) },
      { ...good, restaurantId: 'r'.repeat(64), dropoff: { lat: -90, lng: 180, address: 'a'.repeat(300) } },
    ];
    for (const body of bodies) {
      const { quick, zod } = check(body);
      assert.ok(zod.success);
      assert.ok(quick, `fast path took ${JSON.stringify(body).slice(0, 120)}`);
    }
  });

  it('never accepts what zod rejects', () => {
    const wrong: unknown[] = [
      null,
      [],
      'order',
      { ...good, restaurantId: '' },
      { ...good, restaurantId: 'r'.repeat(65) },
      { ...good, restaurantId: 7 },
      { ...good, items: [] },
      { ...good, items: {} },
      { ...good, items: Array.from({ length: 51 }, (_, i) => ({ menuItemId: `m-${i}`, quantity: 1 })) },
      { ...good, items: [{ menuItemId: 'm', quantity: 0 }] },
      { ...good, items: [{ menuItemId: 'm', quantity: 51 }] },
      { ...good, items: [{ menuItemId: 'm', quantity: 1.5 }] },
      { ...good, items: [{ menuItemId: 'm', quantity: '2' }] },
      { ...good, items: [{ menuItemId: '', quantity: 1 }] },
      { ...good, items: [null] },
      { ...good, dropoff: null },
      { ...good, dropoff: { ...good.dropoff, lat: 90.1 } },
      { ...good, dropoff: { ...good.dropoff, lng: '127' } },
      { ...good, dropoff: { ...good.dropoff, address: '   ' } },
      { ...good, dropoff: { ...good.dropoff, address: 'a'.repeat(301) } },
      { ...good, dropoff: { lat: 37.5, lng: 127 } },
    ];
    for (const body of wrong) {
      const { quick, zod } = check(body);
      assert.equal(zod.success, false, JSON.stringify(body));
      assert.equal(quick, undefined);
    }
  });
});

describe('nearby query fast path agrees with the schema', () => {
  const check = (search: string) => {
    const raw = parse(search);
    const quick = quickNearbyQuery(raw);
    const zod = nearbyQuery.safeParse(parse(search));
    if (quick !== undefined) {
      assert.ok(zod.success, `fast path accepted what zod rejects: ${search}`);
      assert.equal(JSON.stringify(quick), JSON.stringify(zod.data), `${search}: same value, same keys in the same order`);
    }
    return { quick, zod };
  };

  it('takes the common queries itself, with what zod returns', () => {
    for (const search of ['lat=37.4979&lng=127.0276', 'lng=127.0276&lat=37.4979&limit=10', 'lat=-90&lng=180&category=chicken&limit=100', 'lat=37.5&lng=127&limit=1&other=x', 'lat=1e1&lng=0']) {
      const { quick, zod } = check(search);
      assert.ok(zod.success, search);
      assert.ok(quick, `fast path took ${search}`);
    }
  });

  it('never accepts what zod rejects, and leaves the doubtful to zod', () => {
    for (const search of ['', 'lat=37.5', 'lat=91&lng=127', 'lat=37.5&lng=-181', 'lat=abc&lng=127', 'lat=37.5&lng=127&limit=0', 'lat=37.5&lng=127&limit=101', 'lat=37.5&lng=127&limit=2.5', 'lat=37.5&lng=127&category=steak', 'lat=37.5&lng=127&category=', 'lat=1&lat=2&lng=127', 'lat=Infinity&lng=1']) {
      const { quick, zod } = check(search);
      assert.equal(zod.success, false, search);
      assert.equal(quick, undefined, search);
    }
    // Accepted by zod (an empty number is 0), but not by the fast path: zod then decides.
    assert.equal(check('lat=&lng=127').quick, undefined);
  });
});
