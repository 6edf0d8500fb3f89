import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateArrival } from '../domain/orders/eta.ts';

const restaurant = { lat: 37.5, lng: 127.0 };
const dropoff = { lat: 37.5 + 2_000 / 111_320, lng: 127.0 }; // 2 km north
const now = 1_800_000_000_000;

describe('ETA', () => {
  it('before pickup: the longer of cooking and the ride to the restaurant, then the ride to the customer', () => {
    const rider = { lat: 37.5 - 1_000 / 111_320, lng: 127.0 }; // 1 km south of the restaurant
    // At 5 m/s with a 1.3 detour: 1 km → 260 s; 2 km → 520 s. Cooking has 10 min left.
    const eta = estimateArrival({ status: 'COOKING', now, cookReadyAt: now + 600_000, rider, riderSpeed: 5, restaurant, dropoff })!;
    assert.ok(Math.abs(eta - (now + 600_000 + 520_000)) < 1_000, `${(eta - now) / 1000} s`);
    const slowKitchenDone = estimateArrival({ status: 'READY_FOR_PICKUP', now, cookReadyAt: now - 1, rider, riderSpeed: 5, restaurant, dropoff })!;
    assert.ok(Math.abs(slowKitchenDone - (now + 260_000 + 520_000)) < 1_000);
  });

  it('after pickup: the ride from where the rider is, at the rider’s own speed', () => {
    const halfway = { lat: 37.5 + 1_000 / 111_320, lng: 127.0 };
    const eta = estimateArrival({ status: 'DELIVERING', now, cookReadyAt: null, rider: halfway, riderSpeed: 10, restaurant, dropoff })!;
    assert.ok(Math.abs(eta - (now + 130_000)) < 1_000);
  });

  it('a rider standing still is not assumed to stay still: the default speed applies', () => {
    const standing = estimateArrival({ status: 'DELIVERING', now, cookReadyAt: null, rider: restaurant, riderSpeed: 0.3, restaurant, dropoff })!;
    assert.ok(Math.abs(standing - (now + 520_000)) < 1_000);
  });

  it('road times from a routing engine replace the straight-line legs they cover', () => {
    const rider = { lat: 37.5 - 1_000 / 111_320, lng: 127.0 };
    const both = estimateArrival({ status: 'COOKING', now, cookReadyAt: now, rider, riderSpeed: 5, restaurant, dropoff, legs: { toRestaurantMs: 400_000, toDropoffMs: 700_000 } })!;
    assert.equal(both, now + 400_000 + 700_000);
    // The engine answered for one leg only: the other stays the straight-line estimate (520 s).
    const one = estimateArrival({ status: 'COOKING', now, cookReadyAt: now, rider, riderSpeed: 5, restaurant, dropoff, legs: { toRestaurantMs: 400_000, toDropoffMs: null } })!;
    assert.ok(Math.abs(one - (now + 400_000 + 520_000)) < 1_000);
    const delivering = estimateArrival({ status: 'DELIVERING', now, cookReadyAt: null, rider, riderSpeed: 5, restaurant, dropoff, legs: { toDropoffMs: 300_000 } })!;
    assert.equal(delivering, now + 300_000);
  });

  it('no ETA once the order is over', () => {
    assert.equal(estimateArrival({ status: 'DELIVERED', now, cookReadyAt: null, rider: null, riderSpeed: null, restaurant, dropoff }), null);
  });
});
