/**
 * bench/scale: the same ingest load and the same dispatch load with 1 and then 2 processes per
 * pool (API processes and worker processes), reporting throughput, p99 and CPU per operation.
 *
 *   npm run bench:scale     (BENCH_SECONDS=15 BENCH_DISPATCH_RATE=150 BENCH_CONNECTIONS=64 by default)
 *
 * Ingest: single-point `POST /v1/riders/me/locations` as fast as the API processes answer
 * (autocannon, the connections split over the API processes), with `--pools location` worker
 * processes draining into Postgres; the phase ends when Postgres holds every acknowledged point.
 * Dispatch: orders placed beforehand are accepted by their restaurants through the API processes
 * at BENCH_DISPATCH_RATE a second; each goes through the outbox relay to `dispatch.match` on the
 * `orders,dispatch` worker processes; riders do not answer (offers run out). Latency is dispatch
 * request → first offer, from the tables' own timestamps.
 *
 * CPU per operation comes from /proc (user + system of every API or worker process): on a shared
 * machine it is steadier than operations per second, and it is what docs/capacity.md sizes from.
 * On a 2-core machine a second process per pool cannot add cores; see docs/benchmarks.md.
 */
import autocannon from 'autocannon';
import { setTimeout as sleep } from 'node:timers/promises';
import { seedCatalogue } from '../cli/commands/seed.ts';
import { createLiveLocation } from '../location/live-location.ts';
import { createOrderPlacer } from '../orders/place-order.ts';
import { signToken } from '../runtime/tokens.ts';
import { around, gangnamRestaurants, keepFresh, loadRiders, paced, seeded } from './support/hot-spot.ts';
import { startProcess, type BenchProcess } from './support/processes.ts';
import { report } from './support/report.ts';
import { machine, startBenchServices } from './support/services.ts';
import { fmt, quantile } from './support/stats.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const RATE = Number(process.env.BENCH_DISPATCH_RATE ?? 150);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const PROCESSES = (process.env.BENCH_PROCESSES ?? '1,2').split(',').map(Number);
const RIDERS = 20_000;
const INGEST_RIDERS = 10_000;

const services = await startBenchServices();
const { platform, urls } = services;
const { db, redis, config } = platform;
const env = { REDIS_URL: urls.redisUrl, DATABASE_URL: urls.databaseUrl, NODE_ENV: 'test', LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1', DATABASE_POOL_MAX: '30' };
let running: BenchProcess[] = [];
let fresh: { stop(): Promise<void> } | undefined;

/** Starts `n` API processes and `n` worker processes running `pools`; returns the API URLs. */
async function start(n: number, pools: string): Promise<{ apis: BenchProcess[]; workers: BenchProcess[]; urls: string[] }> {
  const apis = Array.from({ length: n }, () => startProcess('api/main.ts', [], env));
  const workers = Array.from({ length: n }, () => startProcess('workers/main.ts', ['--pools', pools], env));
  running = [...apis, ...workers];
  const apiUrls = await Promise.all(apis.map((a) => a.waitFor(/"url":"([^"]+)"/)));
  await Promise.all(workers.map((w) => w.waitFor(/workers ready/)));
  return { apis, workers, urls: apiUrls };
}
async function stopAll() {
  await Promise.all(running.map((p) => p.stop()));
  running = [];
}
const cpu = async (ps: BenchProcess[]) => (await Promise.all(ps.map((p) => p.cpuSeconds()))).reduce((a, b) => a + b, 0);
const count = async (table: string, where = '') => Number((await db.raw(`SELECT count(*) AS n FROM ${table} ${where}`)).rows[0].n);

async function ingestPhase(n: number, tokens: string[], step: number[]) {
  const { apis, workers, urls: apiUrls } = await start(n, 'location');
  // Each rider's first point of a shift creates the user and verifies the token; not measured (see bench/ingest).
  await Promise.all(apiUrls.map(async (url, k) => {
    for (let i = k; i < tokens.length; i += apiUrls.length * 64) {
      await Promise.all(Array.from({ length: 64 }, (_, j) => i + j * apiUrls.length).filter((r) => r < tokens.length).map((r) => post(url, r, tokens, step)));
    }
  }));
  // The warm-up's points reach Postgres before the measured load begins.
  for (let seen = -1; ; await sleep(1_000)) {
    const stored = await count('rider_locations');
    if (stored === seen) break;
    seen = stored;
  }
  const storedBefore = await count('rider_locations');
  const cpuBefore = { api: await cpu(apis), worker: await cpu(workers) };
  let next = 0;
  const results = await Promise.all(
    apiUrls.map((url) =>
      autocannon({
        url: `${url}/v1/riders/me/locations`,
        connections: Math.max(1, Math.round(CONNECTIONS / apiUrls.length)),
        duration: SECONDS,
        requests: [{ method: 'POST', setupRequest: (req) => ({ ...req, ...request(next++ % tokens.length, tokens, step) }) }],
      }),
    ),
  );
  const apiCpu = (await cpu(apis)) - cpuBefore.api;
  const acked = results.reduce((a, r) => a + r['2xx'], 0);
  // The workers' share: until Postgres holds every point acknowledged in the phase.
  const stopped = Date.now();
  while ((await count('rider_locations')) - storedBefore < acked && Date.now() - stopped < 60_000) await sleep(200);
  const drainSeconds = (Date.now() - stopped) / 1_000;
  const workerCpu = (await cpu(workers)) - cpuBefore.worker;
  await stopAll();
  const p99 = Math.max(...results.map((r) => r.latency.p99));
  const errors = results.reduce((a, r) => a + r.non2xx + r.errors + r.timeouts, 0);
  return { acked, perSec: acked / SECONDS, endToEnd: acked / (SECONDS + drainSeconds), p99, errors, drainSeconds, apiUs: (apiCpu * 1e6) / Math.max(1, acked), workerUs: (workerCpu * 1e6) / Math.max(1, acked) };
}

function request(rider: number, tokens: string[], step: number[]) {
  const k = step[rider]!++;
  const started = Date.now() - 10 * 60_000;
  const body = JSON.stringify({ points: [{ lat: 37.45 + (rider % 100) * 0.001 + (k * 5) / 111_320, lng: 127.0 + Math.floor(rider / 100) * 0.001, recordedAt: new Date(started + k * 1_000).toISOString(), speed: 5, heading: 0, accuracy: 6 }] });
  return { body, headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[rider]}` } };
}
async function post(url: string, rider: number, tokens: string[], step: number[]) {
  const res = await fetch(`${url}/v1/riders/me/locations`, { method: 'POST', ...request(rider, tokens, step) });
  await res.arrayBuffer();
}

async function dispatchPhase(n: number, orders: Array<{ id: string; restaurant: string }>, restaurantTokens: Map<string, string>) {
  const { apis, workers, urls: apiUrls } = await start(n, 'orders,dispatch');
  // Offers of the previous phase run out (the riders they hold come free) before this one starts.
  await sleep(config.dispatch.offerTimeoutMs + 2_000);
  // New orders' outbox messages are relayed before the measured phase, as in bench/dispatch.
  await platform.queues.get('orders').add('orders.outbox-relay', {});
  while (Number((await db('outbox').count('* as n'))[0]!.n) > 0) await sleep(200);
  const cpuBefore = { api: await cpu(apis), worker: await cpu(workers) };
  const started = new Date();
  let failed = 0;
  await paced(orders.length, RATE, async (i) => {
    const o = orders[i]!;
    try {
      const res = await fetch(`${apiUrls[i % apiUrls.length]}/v1/orders/${o.id}/transitions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${restaurantTokens.get(o.restaurant)}` },
        body: JSON.stringify({ to: 'COOKING', cookMinutes: 15 }),
      });
      await res.arrayBuffer();
      if (res.status !== 200) failed++;
    } catch {
      failed++;
    }
  });
  const apiCpu = (await cpu(apis)) - cpuBefore.api;
  const ids = orders.map((o) => o.id);
  const settled = async () => Number((await db('dispatches').whereIn('order_id', ids).andWhere((q) => q.whereIn('status', ['FAILED', 'ASSIGNED']).orWhereExists(db('dispatch_offers').whereRaw('dispatch_offers.order_id = dispatches.order_id'))).count('* as n'))[0]!.n);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && (await settled()) < orders.length - failed) await sleep(500);
  const workerCpu = (await cpu(workers)) - cpuBefore.worker;
  const { rows } = await db.raw<{ rows: Array<{ ms: string; offered_at: Date }> }>(
    `SELECT extract(epoch FROM (min(o.created_at) - d.created_at)) * 1000 AS ms, min(o.created_at) AS offered_at
       FROM dispatches d JOIN dispatch_offers o ON o.order_id = d.order_id
      WHERE d.order_id = ANY(?) GROUP BY d.order_id, d.created_at`,
    [ids],
  );
  await stopAll();
  const latencies = rows.map((r) => Number(r.ms));
  const lastOffer = rows.length ? Math.max(...rows.map((r) => new Date(r.offered_at).getTime())) : started.getTime();
  const seconds = (lastOffer - started.getTime()) / 1_000;
  return { offered: rows.length, failed, perSec: rows.length / Math.max(1e-3, seconds), p99: quantile(latencies, 0.99), p50: quantile(latencies, 0.5), apiUs: (apiCpu * 1e6) / Math.max(1, orders.length - failed), workerUs: (workerCpu * 1e6) / Math.max(1, rows.length) };
}

try {
  const tokens = await Promise.all(Array.from({ length: INGEST_RIDERS }, (_, i) => signToken({ sub: `scale-r${i}`, role: 'rider' }, config.jwt)));
  const step = new Array<number>(INGEST_RIDERS).fill(0);
  const ingest = [];
  for (const n of PROCESSES) ingest.push({ n, ...(await ingestPhase(n, tokens, step)) });

  await seedCatalogue(db);
  const restaurants = await gangnamRestaurants(db);
  const live = createLiveLocation(redis, config.queuePrefix);
  fresh = keepFresh(live, await loadRiders(redis, live, { total: RIDERS, hot: 1_000, prefix: 'sr-', keepFreshMeters: 8_000 }));
  const place = createOrderPlacer(db);
  const random = seeded(9);
  const perPhase = Math.round(RATE * SECONDS);
  const placed: Array<{ id: string; restaurant: string }> = [];
  for (let i = 0; i < perPhase * PROCESSES.length; i += 50) {
    placed.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(50, perPhase * PROCESSES.length - i) }, async (_, j) => {
          const r = restaurants[(i + j) % restaurants.length]!;
          const result = await place({ customerId: `sc-${i + j}`, restaurantId: r.id, items: [{ menuItemId: r.item, quantity: r.quantity }], dropoff: { ...around(random, r, 2_000), address: '강남구 테헤란로 1' } });
          if (result.kind !== 'created') throw new Error(`placing failed: ${JSON.stringify(result)}`);
          return { id: result.order.id, restaurant: r.id };
        }),
      )),
    );
  }
  const restaurantTokens = new Map(await Promise.all(restaurants.map(async (r) => [r.id, await signToken({ sub: r.id, role: 'restaurant' }, config.jwt)] as const)));
  const dispatch = [];
  for (const [k, n] of PROCESSES.entries()) dispatch.push({ n, ...(await dispatchPhase(n, placed.slice(k * perPhase, (k + 1) * perPhase), restaurantTokens)) });

  console.log(`\nbench/scale  ${new Date().toISOString()}  ${machine()}`);
  console.log(`ingest: single-point requests for ${SECONDS} s, ${CONNECTIONS} connections over the API processes; dispatch: ${fmt(perPhase)} acceptances at ${RATE}/s, ${fmt(RIDERS)} riders\n`);
  console.log('| load | processes per pool | throughput | p99 (ms) | API CPU per op (µs) | worker CPU per op (µs) | notes |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of ingest) console.log(`| ingest | ${r.n} | ${fmt(r.perSec)} points/s acknowledged (${fmt(r.endToEnd)}/s into Postgres) | ${fmt(r.p99)} | ${fmt(r.apiUs)} | ${fmt(r.workerUs)} | drained ${fmt(r.drainSeconds, 1)} s after the load; non-2xx ${r.errors} |`);
  for (const r of dispatch) console.log(`| dispatch | ${r.n} | ${fmt(r.perSec, 1)} first offers/s (offered ${RATE}/s) | ${fmt(r.p99)} | ${fmt(r.apiUs)} | ${fmt(r.workerUs)} | request → first offer p50 ${fmt(r.p50)} ms; ${r.offered} offered, ${r.failed} acceptances failed |`);
  const one = <T extends { n: number }>(xs: T[]) => xs.find((x) => x.n === 1);
  for (const r of ingest) {
    const base = one(ingest);
    report({ bench: 'scale', metric: `ingest-${r.n}`, label: `ingest, ${r.n} API + ${r.n} location worker processes: points/s acknowledged`, value: r.perSec, unit: 'points/s', ...(base && r.n !== 1 ? { baseline: base.perSec, baselineLabel: '1 process per pool' } : {}) });
    report({ bench: 'scale', metric: `ingest-${r.n}-p99`, label: `ingest, ${r.n} process(es) per pool: ack p99`, value: r.p99, unit: 'ms' });
    report({ bench: 'scale', metric: `ingest-${r.n}-api-us`, label: `ingest, ${r.n} process(es) per pool: API CPU per point`, value: r.apiUs, unit: 'µs' });
    report({ bench: 'scale', metric: `ingest-${r.n}-worker-us`, label: `ingest, ${r.n} process(es) per pool: location worker CPU per point`, value: r.workerUs, unit: 'µs' });
  }
  for (const r of dispatch) {
    const base = one(dispatch);
    report({ bench: 'scale', metric: `dispatch-${r.n}`, label: `dispatch, ${r.n} API + ${r.n} worker processes: first offers/s (${RATE}/s offered)`, value: r.perSec, unit: 'dispatches/s', ...(base && r.n !== 1 ? { baseline: base.perSec, baselineLabel: '1 process per pool' } : {}) });
    report({ bench: 'scale', metric: `dispatch-${r.n}-p99`, label: `dispatch, ${r.n} process(es) per pool: request → first offer p99`, value: r.p99, unit: 'ms', target: 'p99 < 250 ms', met: r.p99 < 250 });
    report({ bench: 'scale', metric: `dispatch-${r.n}-api-us`, label: `dispatch, ${r.n} process(es) per pool: API CPU per acceptance`, value: r.apiUs, unit: 'µs' });
    report({ bench: 'scale', metric: `dispatch-${r.n}-worker-us`, label: `dispatch, ${r.n} process(es) per pool: orders + dispatch worker CPU per dispatch`, value: r.workerUs, unit: 'µs' });
  }
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await fresh?.stop();
  await stopAll();
  await services.stop();
}
