import type { Knex } from 'knex';
import { GANGNAM_STATION } from '../../domain/catalogue/seed-data.ts';
import type { LocationPoint } from '../../domain/location/point.ts';
import { haversineMeters } from '../../domain/location/geo.ts';
import type { LiveLocation } from '../../location/live-location.ts';
import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';

export { GANGNAM_STATION };

/**
 * Deterministic pseudo-random numbers in [0, 1), so runs compare (mulberry32: 32-bit integer
 * arithmetic, a period of 2^32). The linear congruential generator used before multiplied in
 * floating point: the product passed 2^53, lost its low bits, and the sequence repeated every
 * 10,466 draws, so bench/dispatch's riders across Seoul sat in stacks of nine or ten at the same
 * spot (tests/bench-hot-spot.test.ts).
 */
export function seeded(seed = 42): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A uniformly random point within `metres` of `centre`. */
export function around(random: () => number, centre: { lat: number; lng: number }, metres: number) {
  const r = metres * Math.sqrt(random());
  const a = 2 * Math.PI * random();
  return { lat: centre.lat + (r * Math.cos(a)) / 111_320, lng: centre.lng + (r * Math.sin(a)) / (111_320 * Math.cos((centre.lat * Math.PI) / 180)) };
}

/**
 * Seed 000's hot spot: `total` available riders, `hot` of them within 1 km of 강남역 and the rest
 * spread over Seoul (15 km around City Hall), loaded through the real live-location code.
 * Returns the riders near enough to 강남역 (within `keepFreshMeters`) to be worth keeping fresh.
 */
export async function loadRiders(redis: Redis, live: LiveLocation, options: { total: number; hot: number; prefix: string; keepFreshMeters: number }): Promise<LocationPoint[]> {
  const random = seeded();
  const now = Date.now();
  const points: LocationPoint[] = Array.from({ length: options.total }, (_, i) => {
    const at = i < options.hot ? around(random, GANGNAM_STATION, 1_000) : around(random, { lat: 37.5665, lng: 126.978 }, 15_000);
    return { riderId: `${options.prefix}${i}`, recordedAt: now, ...at, speed: 4, heading: 0, accuracy: 5, mocked: false };
  });
  for (let i = 0; i < points.length; i += 1_000) {
    const chunk = points.slice(i, i + 1_000);
    const pipeline = redis.pipeline();
    for (const p of chunk) pipeline.hset(live.keys.rider(p.riderId), 'status', 'available');
    await pipeline.exec();
    await live.apply(chunk);
  }
  return points.filter((p) => haversineMeters(p, GANGNAM_STATION) <= options.keepFreshMeters);
}

/**
 * Riders' phones keep reporting: every `everyMs` each rider sends its position again, through the
 * real live-location code, so nobody goes stale (30 s) during a long run. Busy riders stay out of
 * the geo index, as they would with the location worker. Riders `options.skip` names are left out
 * of a round (a caller that knows their fixes change nothing it measures).
 */
export function keepFresh(live: LiveLocation, riders: LocationPoint[], everyMs = 10_000, options: { skip?: (riderId: string) => boolean } = {}): { stop(): Promise<void> } {
  let running = true;
  const { skip } = options;
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      for (let i = 0; i < riders.length && running; i += 500) {
        const now = Date.now();
        // `skip`: riders whose position nothing reads for now (bench/dispatch: riders holding an order).
        const due = riders.slice(i, i + 500).filter((p) => !skip?.(p.riderId));
        if (due.length > 0) await live.apply(due.map((p) => ({ ...p, recordedAt: now })));
        await sleep(Math.max(0, (everyMs * 500) / riders.length - (Date.now() - now)));
      }
      await sleep(Math.max(0, everyMs - (Date.now() - started)));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** Calls `run(i)` `total` times at `rate` per second, on schedule, not waiting for each; resolves when all are done. */
export async function paced(total: number, rate: number, run: (i: number) => Promise<unknown>): Promise<void> {
  const started = performance.now();
  const pending: Array<Promise<unknown>> = [];
  for (let i = 0; i < total; i++) {
    const wait = started + (i * 1_000) / rate - performance.now();
    if (wait > 1) await sleep(wait);
    pending.push(run(i));
  }
  await Promise.all(pending);
}

/** How far from 강남역 the bench's restaurants are ({@link gangnamRestaurants}). */
export const RESTAURANTS_WITHIN_M = 1_000;

/** Restaurants within 1 km of 강남역 with one menu item each and the quantity that meets the minimum order. */
export async function gangnamRestaurants(db: Knex) {
  const restaurants = await db('restaurants').where('id', 'like', 'rest-gangnam%').andWhere({ open: true }).orderBy('id');
  const out: Array<{ id: string; lat: number; lng: number; item: string; quantity: number }> = [];
  for (const r of restaurants) {
    if (haversineMeters(r, GANGNAM_STATION) > RESTAURANTS_WITHIN_M) continue;
    const item = await db('menu_items').where({ restaurant_id: r.id, available: true }).orderBy('price', 'desc').first();
    if (item) out.push({ id: r.id, lat: r.lat, lng: r.lng, item: item.id, quantity: Math.max(1, Math.ceil(r.min_order / item.price)) });
  }
  return out;
}
