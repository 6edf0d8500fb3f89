/**
 * bench/tracking: `GET /v1/orders/:id/tracking` through the real API process, served from Redis,
 * beside a bare Express 5 GET answering JSON from memory, in the same run; and a count of the
 * Postgres transactions the tracking load caused (target: none).
 *
 *   npm run bench:tracking      (BENCH_SECONDS=10 BENCH_ROUNDS=3 BENCH_CONNECTIONS=64 by default)
 *
 * Baseline and deligo runs alternate BENCH_ROUNDS times (the machine is shared, so alternation
 * spreads noise over both sides); the medians are compared, as requests/s and as server CPU time
 * per request.
 */
import autocannon from 'autocannon';
import { createOrderTracking } from '../location/order-tracking.ts';
import { signToken } from '../runtime/tokens.ts';
import { startProcess, type BenchProcess } from './support/processes.ts';
import { machine, startBenchServices } from './support/services.ts';
import { fmt, median } from './support/stats.ts';
import { report } from './support/report.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const ORDERS = 1_000;

const services = await startBenchServices();
const { platform, urls } = services;
const env = { REDIS_URL: urls.redisUrl, DATABASE_URL: urls.databaseUrl, NODE_ENV: 'test', LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1' };
// BENCH_PROFILE_API=dir writes a CPU profile of the API process there.
const profile = process.env.BENCH_PROFILE_API;
const api = startProcess('api/main.ts', [], env, profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []);
const bare = startProcess('bench/support/bare-express.ts', [], {});

try {
  const apiUrl = await api.waitFor(/"url":"([^"]+)"/);
  const bareUrl = await bare.waitFor(/listening (\S+)/);
  // Active orders with a rider position and a short route, as the location worker leaves them.
  const tracking = createOrderTracking(platform.redis, platform.config.queuePrefix);
  for (let i = 0; i < ORDERS; i++) {
    await tracking.applyStatus({
      orderId: `o-${i}`, version: 5, from: 'PICKED_UP', to: 'DELIVERING', customerId: `c-${i}`, restaurantId: 'rest-1', restaurantName: '교촌치킨',
      riderId: `r-${i}`, cookMinutes: 15, etaMinutes: 9, reason: null, itemCount: 2, total: 32_000,
      restaurant: { lat: 37.4979, lng: 127.0276 }, dropoff: { lat: 37.5079, lng: 127.0276 }, etaAt: new Date(Date.now() + 540_000).toISOString(),
    });
    await platform.redis.set(`${platform.config.queuePrefix}:rider-order:{r-${i}}`, `o-${i}`);
    await tracking.applyPositions(Array.from({ length: 20 }, (_, k) => ({ riderId: `r-${i}`, recordedAt: Date.now() - (20 - k) * 5_000, lat: 37.4979 + k * 0.0004, lng: 127.0276, speed: 6, heading: 0, accuracy: 5, mocked: false })));
  }
  const tokens = await Promise.all(Array.from({ length: ORDERS }, (_, i) => signToken({ sub: `c-${i}`, role: 'customer' }, platform.config.jwt)));
  let next = 0;
  const load = async (server: BenchProcess, url: string, withAuth: boolean) => {
    const cpuBefore = await server.cpuSeconds();
    const result = await autocannon({
      url,
      connections: CONNECTIONS,
      duration: SECONDS,
      requests: [
        {
          method: 'GET',
          setupRequest: (req) => {
            const i = next++ % ORDERS;
            return { ...req, path: `/v1/orders/o-${i}/tracking`, headers: withAuth ? { authorization: `Bearer ${tokens[i]}` } : {} };
          },
        },
      ],
    });
    const cpu = (await server.cpuSeconds()) - cpuBefore;
    return { result, perSec: result['2xx'] / SECONDS, cpuUs: (cpu * 1e6) / Math.max(1, result['2xx'] + result.non2xx) };
  };
  // Every customer once, so users exist and their tokens are verified before the measured run.
  await Promise.all(tokens.map((t, i) => fetch(`${apiUrl}/v1/orders/o-${i}/tracking`, { headers: { authorization: `Bearer ${t}` } })));
  // Postgres backends report their counts lazily (an idle one after up to 10 s): let the warm-up's
  // user records be counted before the first snapshot, so they are not charged to the runs.
  await new Promise((r) => setTimeout(r, 11_000));
  // Every scan (sequential or index) and row written on deligo's tables, by anyone.
  const tableAccesses = async () =>
    Number((await platform.db.raw('SELECT coalesce(sum(coalesce(seq_scan, 0) + coalesce(idx_scan, 0) + n_tup_ins + n_tup_upd + n_tup_del), 0) AS n FROM pg_stat_user_tables')).rows[0].n);
  const pgTransactions = async () => Number((await platform.db.raw('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()')).rows[0].n);

  const runs = { bare: [] as Array<Awaited<ReturnType<typeof load>>>, deligo: [] as Array<Awaited<ReturnType<typeof load>>> };
  // Postgres backends report their counts lazily (an idle one after up to 10 s), so the count is
  // taken over all tracking runs with a settling pause at either end.
  const before = await pgTransactions();
  const accessesBefore = await tableAccesses();
  for (let i = 0; i < ROUNDS; i++) {
    runs.bare.push(await load(bare, bareUrl, false));
    runs.deligo.push(await load(api, apiUrl, true));
  }
  await new Promise((r) => setTimeout(r, 11_000));
  const transactions = (await pgTransactions()) - before;
  const accesses = (await tableAccesses()) - accessesBefore;
  const mid = (xs: typeof runs.bare) => [...xs].sort((a, b) => a.perSec - b.perSec)[Math.floor((xs.length - 1) / 2)]!;

  console.log(`\nbench/tracking  ${new Date().toISOString()}  ${machine()}`);
  console.log(`${SECONDS} s per run, ${ROUNDS} alternating rounds, ${CONNECTIONS} keep-alive connections, ${ORDERS} active orders with a 20-point route\n`);
  console.log('| run (the round with the median requests/s) | requests/s | p50 (ms) | p99 (ms) | server CPU per request (µs) | non-2xx |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, r] of [['bare Express 5 GET (JSON from memory)', mid(runs.bare)], ['deligo GET tracking (auth + Redis)', mid(runs.deligo)]] as const) {
    console.log(`| ${name} | ${fmt(r.perSec)} | ${r.result.latency.p50} | ${r.result.latency.p99} | ${fmt(r.cpuUs)} | ${r.result.non2xx + r.result.errors + r.result.timeouts} |`);
  }
  const list = (xs: typeof runs.bare, key: 'perSec' | 'cpuUs') => xs.map((r) => fmt(r[key])).join(', ');
  console.log(`\nrounds, requests/s: bare ${list(runs.bare, 'perSec')} / deligo ${list(runs.deligo, 'perSec')}; CPU µs per request: bare ${list(runs.bare, 'cpuUs')} / deligo ${list(runs.deligo, 'cpuUs')}`);
  console.log(`tracking vs bare Express: ${fmt(median(runs.deligo.map((r) => r.perSec)) / median(runs.bare.map((r) => r.perSec)), 2)} × requests/s (target ≥ 0.8)`);
  console.log(`  the same as CPU per request (bare ÷ deligo, medians): ${fmt(median(runs.bare.map((r) => r.cpuUs)) / median(runs.deligo.map((r) => r.cpuUs)), 2)} ×`);
  // Background jobs do not run here; the count includes the benchmark's own first count query.
  report({ bench: 'tracking', metric: 'requests-per-s', label: 'GET tracking requests/s', value: median(runs.deligo.map((r) => r.perSec)), unit: 'req/s', baseline: median(runs.bare.map((r) => r.perSec)), baselineLabel: 'bare Express 5 GET', target: '≥ 0.8 × baseline', met: median(runs.deligo.map((r) => r.perSec)) >= 0.8 * median(runs.bare.map((r) => r.perSec)) });
  report({ bench: 'tracking', metric: 'api-cpu-per-request', label: 'API CPU per tracking read', value: median(runs.deligo.map((r) => r.cpuUs)), unit: 'µs', baseline: median(runs.bare.map((r) => r.cpuUs)), baselineLabel: 'bare Express 5 GET' });
  report({ bench: 'tracking', metric: 'postgres-accesses', label: "Postgres scans or row writes during the reads", value: accesses, unit: 'accesses', target: '0', met: accesses === 0 });
  console.log(`Postgres across all the runs: ${accesses} scans or row writes on deligo's tables (target 0); ${transactions} transactions in the database, which also counts the benchmark's own count query and autovacuum`);
} finally {
  await Promise.all([api.stop(), bare.stop()]);
  await services.stop();
}
