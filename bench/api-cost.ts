/**
 * bench/api-cost: the API process's CPU per request on its common routes, beside a bare Express 5
 * JSON POST in the same run: where the shared HTTP stack (auth, validation, logging, metrics,
 * routing, answering) stands against the floor, route by route.
 *
 *   npm run bench:api-cost      (BENCH_SECONDS=8 per route, BENCH_RATE=300 requests/s)
 *
 * BENCH_COMPARE_TREE=dir also runs every API route against an API started from another checkout
 * (e.g. `git archive main | tar -x -C dir` with node_modules linked), interleaved with this one's,
 * so a change is judged against its own baseline under the same load.
 */
import autocannon from 'autocannon';
import os from 'node:os';
import { seedCatalogue } from '../cli/commands/seed.ts';
import { CATEGORIES } from '../domain/catalogue/catalogue.ts';
import { createOpenGroupIndex } from '../group-orders/open-index.ts';
import { signToken } from '../runtime/tokens.ts';
import { around, gangnamRestaurants, seeded } from './support/hot-spot.ts';
import { sharedCpuReader, startProcess } from './support/processes.ts';
import { machine, redisSettled, startBenchServices } from './support/services.ts';
import { fmt } from './support/stats.ts';
import { report } from './support/report.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const RATE = Number(process.env.BENCH_RATE ?? 300);
const CUSTOMERS = 500;
const GROUPS = 5_000;
const GANGNAM = { lat: 37.4979, lng: 127.0276 };

const services = await startBenchServices();
const { platform, urls } = services;
const env = { REDIS_URL: urls.redisUrl, DATABASE_URL: urls.databaseUrl, NODE_ENV: 'test', LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1' };
const api = startProcess('api/main.ts', [], env, process.env.BENCH_PROFILE_API ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_API}`] : []);
const bare = startProcess('bench/support/bare-express.ts', [], {});
const compareTree = process.env.BENCH_COMPARE_TREE;
const other = compareTree ? startProcess('api/main.ts', [], env, [], compareTree) : undefined;

try {
  const apiUrl = await api.waitFor(/"url":"([^"]+)"/);
  const bareUrl = await bare.waitFor(/listening (\S+)/);
  const otherUrl = other ? await other.waitFor(/"url":"([^"]+)"/) : undefined;
  await seedCatalogue(platform.db);
  const restaurants = await gangnamRestaurants(platform.db);
  const tokens = await Promise.all(Array.from({ length: CUSTOMERS }, (_, i) => signToken({ sub: `ac-${i}`, role: 'customer' }, platform.config.jwt)));
  for (const url of otherUrl ? [apiUrl, otherUrl] : [apiUrl]) {
    for (let i = 0; i < CUSTOMERS; i += 100) await Promise.all(tokens.slice(i, i + 100).map((t) => fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${t}` } }).then((r) => r.arrayBuffer())));
  }
  const index = createOpenGroupIndex(platform.redis, platform.config.queuePrefix);
  const random = seeded(5);
  const expiresAt = Date.now() + 3_600_000;
  for (let i = 0; i < GROUPS; i += 500) {
    await Promise.all(
      Array.from({ length: 500 }, (_, k) => {
        const n = i + k;
        return index.add({ id: `grp_${n}`, restaurantId: `rest-${n % 120}`, restaurantName: '교촌치킨 강남점', category: CATEGORIES[n % CATEGORIES.length]!, mode: n % 2 ? 'EACH' : 'SPLIT', deliveryTip: 3_000, menuTotal: 18_000, address: '서울 강남구 테헤란로 123', ...around(random, GANGNAM, 1_000), expiresAt });
      }),
    );
  }
  await redisSettled(platform.redis);

  // Redis and Postgres share the cores too: their CPU per request counts.
  const sharedCpu = await sharedCpuReader(platform.redis, platform.db);
  const others = async () => {
    const { redis, postgres } = await sharedCpu();
    return [redis, postgres];
  };
  let next = 0;
  const scenarios: Array<{ name: string; metric?: string; url: string; request: () => { method: 'GET' | 'POST'; path: string; body?: string; headers: Record<string, string> } }> = [
    { name: 'bare Express 5 JSON POST', url: bareUrl, request: () => ({ method: 'POST', path: '/v1/riders/me/locations', body: JSON.stringify({ points: [{ lat: 37.5, lng: 127 }] }), headers: { 'content-type': 'application/json' } }) },
    { name: 'bare Express 5 GET, 50 groups from memory', url: bareUrl, request: () => ({ method: 'GET', path: '/v1/group-orders?lat=37.4979&lng=127.0276', headers: {} }) },
    { name: 'GET /healthz (no auth)', metric: 'healthz', url: apiUrl, request: () => ({ method: 'GET', path: '/healthz', headers: {} }) },
    { name: 'GET /v1/me (auth)', metric: 'me', url: apiUrl, request: () => ({ method: 'GET', path: '/v1/me', headers: { authorization: `Bearer ${tokens[next++ % CUSTOMERS]}` } }) },
    {
      name: 'GET /v1/group-orders (~50 entries)',
      metric: 'group-orders-list',
      url: apiUrl,
      request: () => {
        const q = around(random, GANGNAM, 800);
        return { method: 'GET', path: `/v1/group-orders?lat=${q.lat.toFixed(6)}&lng=${q.lng.toFixed(6)}`, headers: { authorization: `Bearer ${tokens[next++ % CUSTOMERS]}` } };
      },
    },
    {
      name: 'POST /v1/orders',
      metric: 'orders-place',
      url: apiUrl,
      request: () => {
        const i = next++;
        const r = restaurants[i % restaurants.length]!;
        const body = JSON.stringify({ restaurantId: r.id, items: [{ menuItemId: r.item, quantity: r.quantity }], dropoff: { ...around(random, r, 2_000), address: '서울 강남구 테헤란로 152' } });
        return { method: 'POST', path: '/v1/orders', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[i % CUSTOMERS]}`, 'idempotency-key': `cost-${i}` } };
      },
    },
  ];
  const only = process.env.BENCH_ONLY;
  console.log(`\nbench/api-cost  ${new Date().toISOString()}  ${machine()}`);
  console.log(`${RATE} requests/s for ${SECONDS} s per route, 16 connections\n`);
  console.log('| route | answered/s | p50 (ms) | p99 (ms) | non-2xx | server CPU per request (µs) | Redis CPU (µs) | Postgres CPU (µs) |');
  console.log('|---|---|---|---|---|---|---|---|');
  const runs = scenarios.flatMap((s) => (s.url === apiUrl && otherUrl ? [s, { ...s, name: `${s.name}, ${compareTree}`, metric: undefined, url: otherUrl }] : [s]));
  let bareCpu: number | undefined;
  for (const s of runs) {
    if (only && !s.name.includes(only) && !s.name.startsWith('bare')) continue;
    const proc = s.url === bareUrl ? bare : s.url === apiUrl ? api : other!;
    const load = () =>
      autocannon({ url: s.url, connections: 16, duration: SECONDS, overallRate: RATE, requests: [{ setupRequest: (req) => ({ ...req, ...s.request() }) }] });
    await autocannon({ url: s.url, connections: 16, duration: 2, overallRate: RATE, requests: [{ setupRequest: (req) => ({ ...req, ...s.request() }) }] });
    const cpu = await proc.cpuSeconds();
    const [redis0, pg0] = await others();
    const r = await load();
    const [redis1, pg1] = await others();
    const per = (seconds: number) => fmt((seconds * 1e6) / Math.max(1, r['2xx']));
    const cpuMicros = (((await proc.cpuSeconds()) - cpu) * 1e6) / Math.max(1, r['2xx']);
    const perRequest = fmt(cpuMicros);
    if (s.name === scenarios[0]!.name) bareCpu = cpuMicros;
    if (s.metric) report({ bench: 'api-cost', metric: `api-cpu-${s.metric}`, label: `API CPU per ${s.name} at ${RATE}/s`, value: cpuMicros, unit: 'µs', baseline: bareCpu, baselineLabel: 'bare Express 5 JSON POST' });
    console.log(`| ${s.name} | ${fmt(r['2xx'] / SECONDS)} | ${r.latency.p50} | ${r.latency.p99} | ${r.non2xx + r.errors + r.timeouts} | ${perRequest} | ${per(redis1! - redis0!)} | ${per(pg1! - pg0!)} |`);
  }
  console.log(`load average (1/5 min): ${os.loadavg().slice(0, 2).map((n) => n.toFixed(1)).join(' / ')}`);
} finally {
  await Promise.all([api.stop(), bare.stop(), other?.stop()]);
  await services.stop();
}
process.exit(process.exitCode ?? 0);
