/**
 * bench/tracking: `GET /v1/orders/:id/tracking` through the real API process, served from Redis,
 * beside a bare Express 5 GET answering JSON from memory, in the same run; and a count of the
 * Postgres transactions the tracking load caused (target: none).
 *
 *   npm run bench:tracking      (BENCH_SECONDS=15 BENCH_CONNECTIONS=64 by default)
 */
import autocannon from 'autocannon';
import { createOrderTracking } from '../location/order-tracking.ts';
import { signToken } from '../runtime/tokens.ts';
import { startProcess } from './support/processes.ts';
import { machine, startBenchServices } from './support/services.ts';
import { fmt } from './support/stats.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const ORDERS = 1_000;

const services = await startBenchServices();
const { platform, urls } = services;
const env = { REDIS_URL: urls.redisUrl, DATABASE_URL: urls.databaseUrl, NODE_ENV: 'test', LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1' };
const api = startProcess('api/main.ts', [], env);
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
  const load = (url: string, withAuth: boolean) =>
    autocannon({
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
  // Every customer once, so users exist and their tokens are verified before the measured run.
  await Promise.all(tokens.map((t, i) => fetch(`${apiUrl}/v1/orders/o-${i}/tracking`, { headers: { authorization: `Bearer ${t}` } })));
  const pgTransactions = async () => Number((await platform.db.raw('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()')).rows[0].n);

  const baseline = await load(bareUrl, false);
  const before = await pgTransactions();
  const ours = await load(apiUrl, true);
  const after = await pgTransactions();

  console.log(`\nbench/tracking  ${new Date().toISOString()}  ${machine()}`);
  console.log(`${SECONDS} s per run, ${CONNECTIONS} keep-alive connections, ${ORDERS} active orders with a 20-point route\n`);
  console.log('| run | requests/s | p50 (ms) | p99 (ms) | non-2xx |');
  console.log('|---|---|---|---|---|');
  for (const [name, r] of [['bare Express 5 GET (JSON from memory)', baseline], ['deligo GET tracking (auth + Redis)', ours]] as const) {
    console.log(`| ${name} | ${fmt(r['2xx'] / SECONDS)} | ${r.latency.p50} | ${r.latency.p99} | ${r.non2xx + r.errors + r.timeouts} |`);
  }
  console.log(`\ntracking vs bare Express: ${fmt(ours['2xx'] / baseline['2xx'], 2)} × (target ≥ 0.8)`);
  // The benchmark's own query adds one; background jobs are not running.
  console.log(`Postgres transactions during the tracking run: ${after - before - 1} (target 0)`);
} finally {
  await Promise.all([api.stop(), bare.stop()]);
  await services.stop();
}
