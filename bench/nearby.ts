/**
 * bench/nearby: nearest available riders around 강남역 with 50,000 riders in Seoul, 1,000 of them
 * within 1 km of the station, at 500 queries/s; beside raw GEOSEARCH on one unsharded key holding
 * the same riders, measured in the same run.
 *
 *   npm run bench:nearby        (BENCH_SECONDS=10 by default)
 */
import type { LocationPoint } from '../domain/location/point.ts';
import { createLiveLocation } from '../location/live-location.ts';
import { machine, redisSettled, startBenchServices } from './support/services.ts';
import { fmt, paced, quantile } from './support/stats.ts';
import { report } from './support/report.ts';

const RIDERS = 50_000;
const HOT = 1_000;
const RATE = 500;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const GANGNAM = { lat: 37.4979, lng: 127.0276 };
const RADIUS = 1_000;
const LIMIT = 20;

const services = await startBenchServices();
const { platform } = services;
const live = createLiveLocation(platform.redis, 'bench');
const raw = 'bench:geo-unsharded';

// Deterministic pseudo-random placement, so runs compare.
let seed = 42;
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
const around = (centre: { lat: number; lng: number }, metres: number) => {
  const r = metres * Math.sqrt(random());
  const a = 2 * Math.PI * random();
  return { lat: centre.lat + (r * Math.cos(a)) / 111_320, lng: centre.lng + (r * Math.sin(a)) / (111_320 * Math.cos((centre.lat * Math.PI) / 180)) };
};

try {
  const now = Date.now();
  const points: LocationPoint[] = Array.from({ length: RIDERS }, (_, i) => {
    // 1,000 within 1 km of the station; the rest spread over Seoul (about 15 km around City Hall).
    const at = i < HOT ? around(GANGNAM, 1_000) : around({ lat: 37.5665, lng: 126.978 }, 15_000);
    return { riderId: `r${i}`, recordedAt: now, ...at, speed: 4, heading: 0, accuracy: 5, mocked: false };
  });
  for (let i = 0; i < RIDERS; i += 1_000) {
    const chunk = points.slice(i, i + 1_000);
    const pipeline = platform.redis.pipeline();
    for (const p of chunk) pipeline.hset(live.keys.rider(p.riderId), 'status', 'available');
    await pipeline.exec();
    await live.apply(chunk);
    await platform.redis.geoadd(raw, ...chunk.flatMap((p) => [p.lng, p.lat, p.riderId]));
  }
  const queries = Array.from({ length: RATE * SECONDS }, () => around(GANGNAM, 500));
  await redisSettled(platform.redis);
  // Warm-up, not measured: the first second of either run would otherwise time the JIT.
  await paced(queries.slice(0, RATE), RATE, async (q) => void (await live.nearby({ ...q, radiusMeters: RADIUS, limit: LIMIT, now: Date.now() })));

  const sharded = await paced(queries, RATE, async (q) => {
    const found = await live.nearby({ ...q, radiusMeters: RADIUS, limit: LIMIT, now: Date.now() });
    if (found.length === 0) throw new Error('no riders found');
  });
  const unsharded = await paced(queries, RATE, async (q) => {
    await platform.redis.geosearch(raw, 'FROMLONLAT', q.lng, q.lat, 'BYRADIUS', RADIUS, 'm', 'ASC', 'COUNT', LIMIT, 'WITHDIST');
  });

  console.log(`\nbench/nearby  ${new Date().toISOString()}  ${machine()}`);
  console.log(`${fmt(RIDERS)} riders, ${fmt(HOT)} within 1 km of 강남역; ${RATE} queries/s for ${SECONDS} s; radius ${RADIUS} m, limit ${LIMIT}\n`);
  console.log('| query | p50 (ms) | p99 (ms) | max (ms) | target |');
  console.log('|---|---|---|---|---|');
  console.log(`| deligo nearby (cells + freshness/status check) | ${fmt(quantile(sharded, 0.5), 2)} | ${fmt(quantile(sharded, 0.99), 2)} | ${fmt(Math.max(...sharded), 2)} | p99 < 20 |`);
  console.log(`| raw GEOSEARCH, one unsharded key | ${fmt(quantile(unsharded, 0.5), 2)} | ${fmt(quantile(unsharded, 0.99), 2)} | ${fmt(Math.max(...unsharded), 2)} | |`);
  report({ bench: 'nearby', metric: 'query-p99', label: `nearest available riders p99 at ${RATE}/s (${fmt(RIDERS)} riders)`, value: quantile(sharded, 0.99), unit: 'ms', baseline: quantile(unsharded, 0.99), baselineLabel: 'raw GEOSEARCH, one key', target: '< 20 ms', met: quantile(sharded, 0.99) < 20 });
} finally {
  await services.stop();
}
