/**
 * bench/dispatch-search: the dispatch search alone (dispatch/candidate-search.ts), Redis's CPU per
 * search, at 강남역 with 50,000 riders (1,000 within 1 km of the station), for the searches a match
 * makes: within 1 km, then within 3 km, stopping at the band of the third eligible rider.
 *
 *   npm run bench:dispatch-search     (BENCH_SEARCHES=2000 per case by default: about a minute)
 *
 * Two states of the hot spot: riders about (every rider available), and out of riders (every rider
 * within 2.5 km of the station busy, as bench/dispatch's minute leaves it once deliveries pile up:
 * the nearest free riders are then 2.5–3 km out, and a search reads every cell in between). Each
 * case runs the search as dispatch does, beside raw GEOSEARCH of the same cells (each cell's 60
 * nearest, nothing else). Redis's CPU comes from INFO commandstats (the script's own time, its
 * commands included), which is far steadier on this shared machine than a latency; searches go 20
 * at a time, as concurrent matches send them.
 */
import { GANGNAM_STATION } from '../domain/catalogue/seed-data.ts';
import { haversineMeters } from '../domain/location/geo.ts';
import { seedCatalogue } from '../cli/commands/seed.ts';
import { createCandidateFacts } from '../dispatch/candidate-facts.ts';
import { scriptedCandidateSearch } from '../dispatch/candidate-search.ts';
import { createLiveLocation } from '../location/live-location.ts';
import { nearbyKeysAndArgs, SPARE_CANDIDATES } from '../location/nearby-search.ts';
import { gangnamRestaurants, loadRiders } from './support/hot-spot.ts';
import { redisCommandStats } from './support/redis-commands.ts';
import { report } from './support/report.ts';
import { machine, startBenchServices } from './support/services.ts';
import { fmt } from './support/stats.ts';

const SEARCHES = Number(process.env.BENCH_SEARCHES ?? 2_000);
const AT_ONCE = 20;
const DEPTH = 50;
const CUT = 3;
const OUT_OF_RIDERS_M = 2_500;

const services = await startBenchServices();
const { db, redis, config } = services.platform;
try {
  await seedCatalogue(db);
  const restaurants = await gangnamRestaurants(db);
  const live = createLiveLocation(redis, config.queuePrefix);
  const near = await loadRiders(redis, live, { total: 50_000, hot: 1_000, prefix: 'bs-', keepFreshMeters: 4_500 });
  const facts = createCandidateFacts(db, redis, config.queuePrefix);
  // Profiles cached and the suspension set loaded, as in a service that has been running.
  for (let i = 0; i < near.length; i += 500) await facts.read('bench-warm-up', near.slice(i, i + 500).map((p) => p.riderId), Date.now());
  const search = scriptedCandidateSearch(redis, live.keys, facts, config.queuePrefix);

  /** Redis microseconds in `command` per search, over `SEARCHES` searches made by `run`. */
  const measure = async (command: string, run: (i: number) => Promise<unknown>) => {
    const before = (await redisCommandStats(redis)).get(command)?.usec ?? 0;
    for (let i = 0; i < SEARCHES; i += AT_ONCE) await Promise.all(Array.from({ length: Math.min(AT_ONCE, SEARCHES - i) }, (_, k) => run(i + k)));
    return (((await redisCommandStats(redis)).get(command)?.usec ?? 0) - before) / SEARCHES;
  };
  const rows: string[] = [];
  const stateNames = { about: 'riders about', out: `out of riders within ${fmt(OUT_OF_RIDERS_M)} m` } as const;
  for (const state of ['about', 'out'] as const) {
    if (state === 'out') await live.setStatuses(near.filter((p) => haversineMeters(p, GANGNAM_STATION) <= OUT_OF_RIDERS_M).map((p) => p.riderId), 'busy', Date.now());
    for (const radiusMeters of [1_000, 3_000]) {
      // Fixes from every rider nearby just before: a rider silent for 30 s is not searched.
      for (let i = 0; i < near.length; i += 500) await live.apply(near.slice(i, i + 500).map((p) => ({ ...p, recordedAt: Date.now() })));
      const query = (i: number) => ({ ...restaurants[i % restaurants.length]!, radiusMeters, limit: DEPTH, now: Date.now() });
      // The search as dispatch makes it, then with no bound on the cells it reads (SearchCut.spare 0).
      const run = async (spare: number | undefined) => {
        const seen = { riders: 0, cells: 0, again: 0 };
        const usec = await measure('evalsha', async (i) => {
          const got = await search(`bs-order-${state}-${radiusMeters}-${spare ?? 'd'}-${i}`, query(i), { eligible: CUT, ...(spare !== undefined && { spare }) });
          seen.riders += got.riders.length;
          seen.cells += got.cells?.read ?? 0;
          seen.again += got.cells?.again ? 1 : 0;
        });
        return { usec, riders: seen.riders / SEARCHES, cells: seen.cells / SEARCHES, again: seen.again / SEARCHES };
      };
      const scripted = await run(undefined);
      const unbounded = await run(0);
      // Baseline: the same cells searched by raw GEOSEARCH, the full depth each, nothing else.
      const raw = await measure('geosearch', async (i) => {
        const q = query(i);
        const pipeline = redis.pipeline();
        for (const key of nearbyKeysAndArgs(live.keys, q).cellKeys) pipeline.geosearch(key, 'FROMLONLAT', q.lng, q.lat, 'BYRADIUS', radiusMeters, 'm', 'ASC', 'COUNT', DEPTH + SPARE_CANDIDATES, 'WITHDIST');
        await pipeline.exec();
      });
      rows.push(
        `| ${stateNames[state]} | ${fmt(radiusMeters)} m | ${fmt(scripted.usec, 1)} | ${fmt(unbounded.usec, 1)} | ${fmt(raw, 1)} | ${(scripted.usec / raw).toFixed(2)} × | ${scripted.cells.toFixed(1)} / ${unbounded.cells.toFixed(1)} | ${(scripted.again * 100).toFixed(1)} % | ${fmt(scripted.riders, 1)} / ${fmt(unbounded.riders, 1)} |`,
      );
      report({ bench: 'dispatch-search', metric: `redis-us-${state}-${radiusMeters}`, label: `dispatch search, Redis CPU per search, ${stateNames[state]}, within ${fmt(radiusMeters)} m`, value: scripted.usec, unit: 'µs', baseline: raw, baselineLabel: 'raw GEOSEARCH of the same cells, 60 deep' });
    }
  }
  console.log(`\nbench/dispatch-search  ${new Date().toISOString()}  ${machine()}`);
  console.log(`50,000 riders, 1,000 within 1 km of 강남역; ${restaurants.length} restaurants within 1 km; ${fmt(SEARCHES)} searches a case, ${AT_ONCE} at a time, ${DEPTH} deep, stopping at the band of the ${CUT}rd eligible rider\n`);
  console.log('| hot spot | radius | Redis µs per search (script, facts included) | the same, every cell read to its depth | raw GEOSEARCH of the same cells | ratio to raw | cells read (bounded / every cell) | bound failed, read again | riders returned (bounded / every cell) |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  console.log(rows.join('\n'));
} finally {
  await services.stop();
}
process.exit(process.exitCode ?? 0);
