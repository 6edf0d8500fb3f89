/**
 * bench/nearby: nearest available riders around 강남역 with 50,000 riders in Seoul, 1,000 of them
 * within 1 km of the station, at 500 queries/s; beside raw GEOSEARCH on one unsharded key holding
 * the same riders, measured in the same run.
 *
 *   npm run bench:nearby        (BENCH_SECONDS=10 BENCH_ROUNDS=5 by default: about 50 s)
 *
 * Each side answers the same queries at the same rate. The sides alternate in BENCH_ROUNDS rounds
 * (BENCH_SECONDS / BENCH_ROUNDS seconds each, the order rotating every round), so a noisy neighbour
 * on this shared machine lands on all of them rather than on whichever ran second. Besides the
 * latencies each side prints the CPU it cost per query (this process; Redis's time in commands, from
 * INFO commandstats),
 * which is far steadier than a p99, and the event-loop delay of this process while it ran: the
 * load generator and the client share one event loop, so a late timer here is a late query there.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { LocationPoint } from '../domain/location/point.ts';
import { haversineMeters } from '../domain/location/geo.ts';
import { seededRandom } from '../domain/random.ts';
import { createLiveLocation } from '../location/live-location.ts';
import { machine, redisSettled, startBenchServices } from './support/services.ts';
import { fmt, median, paced, quantile } from './support/stats.ts';
import { report } from './support/report.ts';

const RIDERS = 50_000;
const HOT = 1_000;
const RATE = 500;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const GANGNAM = { lat: 37.4979, lng: 127.0276 };
const RADIUS = 1_000;
const LIMIT = 20;

const services = await startBenchServices();
const { platform } = services;
// What the API builds on this (single) Redis: the nearby script.
const live = createLiveLocation(platform.redis, 'bench');
// The path the API takes on Redis Cluster, run here on the same single Redis and data.
const pipelined = createLiveLocation(platform.redis, 'bench', { nearby: 'pipeline' });
const raw = 'bench:geo-unsharded';

// Deterministic placement (mulberry32: 50,000 distinct positions), so runs compare.
const random = seededRandom(42);
const around = (centre: { lat: number; lng: number }, metres: number) => {
  const r = metres * Math.sqrt(random());
  const a = 2 * Math.PI * random();
  return { lat: centre.lat + (r * Math.cos(a)) / 111_320, lng: centre.lng + (r * Math.sin(a)) / (111_320 * Math.cos((centre.lat * Math.PI) / 180)) };
};

interface Side {
  name: string;
  target: string;
  query(q: { lat: number; lng: number }): Promise<void>;
  latencies: number[];
  clientMicros: number;
  redisMicros: number;
  queries: number;
  /** Event-loop delay of this process in each round (ms): its p99 and its max. */
  loopP99: number[];
  loopMax: number[];
}

// Time Redis spent in commands (INFO commandstats, reset before each round): unlike the process's
// CPU counters it leaves out Redis's background work (AOF fsync, cron) and the machine's noise.
const redisCommandMicros = async () => {
  const info = await platform.redis.info('commandstats');
  const usec = new Map([...info.matchAll(/^cmdstat_([^:]+):calls=\d+,usec=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
  usec.delete('info');
  usec.delete('config|resetstat');
  // A script's own GEOSEARCH and HMGET calls are counted in its EVALSHA time as well: count them once.
  const scripted = (usec.get('evalsha') ?? 0) + (usec.get('eval') ?? 0);
  return scripted > 0 ? scripted : [...usec.values()].reduce((a, b) => a + b, 0);
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

  const side = (name: string, target: string, query: Side['query']): Side => ({ name, target, query, latencies: [], clientMicros: 0, redisMicros: 0, queries: 0, loopP99: [], loopMax: [] });
  const sides: Side[] = [
    side('deligo nearby: one script (single Redis, what the API uses here)', 'p99 < 20', async (q) => {
      const found = await live.nearby({ ...q, radiusMeters: RADIUS, limit: LIMIT, now: Date.now() });
      if (found.length < LIMIT) throw new Error(`${found.length} riders found`);
    }),
    side('deligo nearby: pipelined (the Redis Cluster path)', 'p99 < 20', async (q) => {
      const found = await pipelined.nearby({ ...q, radiusMeters: RADIUS, limit: LIMIT, now: Date.now() });
      if (found.length < LIMIT) throw new Error(`${found.length} riders found`);
    }),
    side('raw GEOSEARCH, one unsharded key', '', async (q) => {
      await platform.redis.geosearch(raw, 'FROMLONLAT', q.lng, q.lat, 'BYRADIUS', RADIUS, 'm', 'ASC', 'COUNT', LIMIT, 'WITHDIST');
    }),
  ];

  // Riders within 2 km of the station (every one a query can find: queries fall within 500 m of it,
  // with a 1 km radius) send a fresh point before each round, as their 3–5 s pings would; otherwise
  // the whole hot spot would go stale 30 s after loading and the measurement would run for longer.
  const reachable = points.filter((p) => haversineMeters(p, GANGNAM) < 2_000);
  const refresh = async () => {
    const at = Date.now();
    for (let i = 0; i < reachable.length; i += 1_000) await live.apply(reachable.slice(i, i + 1_000).map((p) => ({ ...p, recordedAt: at })));
  };

  // Warm-up, not measured: the first second of any side would otherwise time the JIT.
  await refresh();
  for (const s of sides) await paced(queries.slice(0, RATE), RATE, s.query);

  const perRound = Math.floor(queries.length / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    const slice = queries.slice(round * perRound, (round + 1) * perRound);
    await refresh();
    for (let k = 0; k < sides.length; k++) {
      const s = sides[(round + k) % sides.length]!;
      await platform.redis.config('RESETSTAT');
      const cpuBefore = process.cpuUsage();
      // A fresh monitor per round: a re-enabled one would count the pause between its rounds as delay.
      const loop = monitorEventLoopDelay({ resolution: 1 });
      loop.enable();
      s.latencies.push(...(await paced(slice, RATE, s.query)));
      loop.disable();
      s.loopP99.push(loop.percentile(99) / 1e6);
      s.loopMax.push(loop.max / 1e6);
      const cpu = process.cpuUsage(cpuBefore);
      s.clientMicros += cpu.user + cpu.system;
      s.redisMicros += await redisCommandMicros();
      s.queries += slice.length;
    }
  }

  console.log(`\nbench/nearby  ${new Date().toISOString()}  ${machine()}`);
  console.log(`${fmt(RIDERS)} riders, ${fmt(HOT)} within 1 km of 강남역 (${fmt(reachable.length)} within 2 km, refreshed before each round); ${RATE} queries/s, ${ROUNDS} alternating rounds of ${fmt(perRound / RATE, 1)} s per side; radius ${RADIUS} m, limit ${LIMIT}\n`);
  console.log('| query | p50 (ms) | p99 (ms) | max (ms) | CPU per query: bench process / Redis in commands (µs) | event-loop delay p99 (median of rounds) / max (ms) | target |');
  console.log('|---|---|---|---|---|---|---|');
  for (const s of sides) {
    console.log(
      `| ${s.name} | ${fmt(quantile(s.latencies, 0.5), 2)} | ${fmt(quantile(s.latencies, 0.99), 2)} | ${fmt(Math.max(...s.latencies), 2)} | ${fmt(s.clientMicros / s.queries)} / ${fmt(s.redisMicros / s.queries)} | ${fmt(median(s.loopP99), 1)} / ${fmt(Math.max(...s.loopMax), 1)} | ${s.target} |`,
    );
  }
  console.log(`\nload average ${(await import('node:os')).loadavg().map((n) => n.toFixed(2)).join(' ')}`);
  const [deligo, cluster, baseline] = sides as [Side, Side, Side];
  const p99 = quantile(deligo.latencies, 0.99);
  const clusterP99 = quantile(cluster.latencies, 0.99);
  const baselineP99 = quantile(baseline.latencies, 0.99);
  report({ bench: 'nearby', metric: 'query-p99', label: `nearest available riders p99 at ${RATE}/s (${fmt(RIDERS)} riders)`, value: p99, unit: 'ms', baseline: baselineP99, baselineLabel: 'raw GEOSEARCH, one key', target: '< 20 ms', met: p99 < 20 });
  report({ bench: 'nearby', metric: 'query-p99-pipelined', label: `nearest available riders p99 at ${RATE}/s, the Redis Cluster path on one Redis`, value: clusterP99, unit: 'ms', baseline: baselineP99, baselineLabel: 'raw GEOSEARCH, one key', target: '< 20 ms', met: clusterP99 < 20 });
} finally {
  await services.stop();
}
