/**
 * bench/group-orders: `GET /v1/group-orders?lat&lng` (open groups within 300 m, nearest first)
 * through the real API process with 100,000 open group orders across Seoul (5,000 of them within
 * 1 km of 강남역), paced at 200 requests/s; beside, in the same run, a bare Express 5 GET answering
 * from memory (the HTTP floor) and a raw GEOSEARCH on one unsharded key holding the same groups
 * (the Redis floor).
 *
 *   npm run bench:group-orders      (BENCH_SECONDS=15 by default)
 *
 * The listing reads only the Redis index (GEO set + cards per cell), so the groups are written
 * to the index directly; Postgres is not on this path.
 */
import http from 'node:http';
import os from 'node:os';
import { CATEGORIES } from '../domain/catalogue/catalogue.ts';
import { createOpenGroupIndex, type GroupCard } from '../group-orders/open-index.ts';
import { signToken } from '../runtime/tokens.ts';
import { startProcess } from './support/processes.ts';
import { machine, redisSettled, startBenchServices } from './support/services.ts';
import { fmt, paced, quantile } from './support/stats.ts';
import { report } from './support/report.ts';
import { seededRandom } from '../domain/random.ts';

const GROUPS = Number(process.env.BENCH_GROUPS ?? 100_000);
const HOT = Math.round(GROUPS / 20);
const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const WARMUP_SECONDS = 3;
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
const GANGNAM = { lat: 37.4979, lng: 127.0276 };
const CITY_HALL = { lat: 37.5665, lng: 126.978 };

const services = await startBenchServices();
const { platform, urls } = services;
const env = { REDIS_URL: urls.redisUrl, DATABASE_URL: urls.databaseUrl, NODE_ENV: 'test', LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1' };
// BENCH_PROFILE_API=dir writes a CPU profile of the API process there.
const api = startProcess('api/main.ts', [], env, process.env.BENCH_PROFILE_API ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_API}`] : []);
const bare = startProcess('bench/support/bare-express.ts', [], {});

// Deterministic placement, so runs compare (a generator that does not cycle after a few thousand draws).
const random = seededRandom(7);
const around = (centre: { lat: number; lng: number }, metres: number) => {
  const r = metres * Math.sqrt(random());
  const a = 2 * Math.PI * random();
  return { lat: centre.lat + (r * Math.cos(a)) / 111_320, lng: centre.lng + (r * Math.sin(a)) / (111_320 * Math.cos((centre.lat * Math.PI) / 180)) };
};

try {
  const apiUrl = await api.waitFor(/"url":"([^"]+)"/);
  const bareUrl = await bare.waitFor(/listening (\S+)/);
  const index = createOpenGroupIndex(platform.redis, platform.config.queuePrefix);
  const raw = 'bench:group-geo-unsharded';
  const expiresAt = Date.now() + 3_600_000;
  const loadStarted = performance.now();
  for (let i = 0; i < GROUPS; i += 1_000) {
    const cards: GroupCard[] = Array.from({ length: Math.min(1_000, GROUPS - i) }, (_, k) => {
      const n = i + k;
      // 5% within 1 km of 강남역; the rest over Seoul (about 15 km around City Hall).
      const at = n < HOT ? around(GANGNAM, 1_000) : around(CITY_HALL, 15_000);
      return { id: `grp_${n}`, restaurantId: `rest-${n % 120}`, restaurantName: '교촌치킨 강남점', category: CATEGORIES[n % CATEGORIES.length]!, mode: n % 2 ? 'EACH' : 'SPLIT', deliveryTip: 3_000, menuTotal: 18_000, address: '서울 강남구 테헤란로 123', ...at, expiresAt };
    });
    await Promise.all(cards.map((c) => index.add(c)));
    await platform.redis.geoadd(raw, ...cards.flatMap((c) => [c.lng, c.lat, c.id]));
  }
  const loadSeconds = (performance.now() - loadStarted) / 1_000;
  await redisSettled(platform.redis);

  // 80% of lookups at the 강남역 hot spot, 20% anywhere in Seoul.
  const queries = Array.from({ length: RATE * SECONDS }, (_, i) => (i % 5 === 4 ? around(CITY_HALL, 15_000) : around(GANGNAM, 800)));
  const token = await signToken({ sub: 'bench-customer', role: 'customer' }, platform.config.jwt);
  const auth = { authorization: `Bearer ${token}` };
  // The user exists and the token is cached; and a sanity check that the index answers at all.
  const probe = await get(`${apiUrl}/v1/group-orders?lat=${GANGNAM.lat}&lng=${GANGNAM.lng}`, auth);
  const probeCount = (JSON.parse(probe.body) as { groupOrders: unknown[] }).groupOrders.length;
  if (probe.status !== 200 || probeCount === 0) throw new Error(`the API found nothing at 강남역: ${probe.status} ${probe.body.slice(0, 300)}`);
  let found = 0;
  const listNearby = async (q: { lat: number; lng: number }) => {
    const res = await get(`${apiUrl}/v1/group-orders?lat=${q.lat.toFixed(6)}&lng=${q.lng.toFixed(6)}`, auth);
    if (res.status !== 200) throw new Error(`status ${res.status}: ${res.body.slice(0, 200)}`);
    return (JSON.parse(res.body) as { groupOrders: unknown[] }).groupOrders.length;
  };
  // Warm-up, not measured: JIT, connection pools and the token cache settle first.
  await paced(queries.slice(0, RATE * WARMUP_SECONDS), RATE, async (q) => void (await listNearby(q)));
  const cpuBefore = await api.cpuSeconds();
  const ours = await paced(queries, RATE, async (q) => {
    // Not `found += await …`: that reads `found` before the await and loses concurrent answers' counts.
    const n = await listNearby(q);
    found += n;
  });
  // CPU per request is steadier than latency on a shared machine: it does not depend on how much of the cores other work left.
  const apiCpuMsPerRequest = ((await api.cpuSeconds()) - cpuBefore) * 1_000 / queries.length;
  const bareExpress = await paced(queries, RATE, async (q) => {
    JSON.parse((await get(`${bareUrl}/v1/group-orders?lat=${q.lat.toFixed(6)}&lng=${q.lng.toFixed(6)}`, {})).body);
  });
  let rawFound = 0;
  const geosearch = await paced(queries, RATE, async (q) => {
    const hits = (await platform.redis.geosearch(raw, 'FROMLONLAT', q.lng, q.lat, 'BYRADIUS', 300, 'm', 'ASC', 'COUNT', 50, 'WITHDIST')) as unknown[];
    rawFound += hits.length;
  });

  console.log(`\nbench/group-orders  ${new Date().toISOString()}  ${machine()}`);
  console.log(`${fmt(GROUPS)} open group orders (${fmt(HOT)} within 1 km of 강남역), indexed in ${fmt(loadSeconds, 1)} s; ${RATE} requests/s for ${SECONDS} s; 300 m, nearest first`);
  console.log(`groups in the answer at 강남역 itself: ${probeCount}; average per measured answer: ${fmt(found / queries.length, 1)} (raw GEOSEARCH: ${fmt(rawFound / queries.length, 1)})`);
  console.log(`API process CPU per deligo request: ${fmt(apiCpuMsPerRequest, 3)} ms (load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')})\n`);
  console.log('| run | p50 (ms) | p99 (ms) | max (ms) | target |');
  console.log('|---|---|---|---|---|');
  for (const [name, l, target] of [
    ['deligo GET /v1/group-orders (HTTP, auth, cells + cards)', ours, 'p99 < 20'],
    ['bare Express 5 GET, JSON from memory (HTTP floor)', bareExpress, ''],
    ['raw GEOSEARCH, one unsharded key, ids only (Redis floor)', geosearch, ''],
  ] as const) {
    console.log(`| ${name} | ${fmt(quantile(l, 0.5), 2)} | ${fmt(quantile(l, 0.99), 2)} | ${fmt(Math.max(...l), 2)} | ${target} |`);
  }
  report({ bench: 'group-orders', metric: 'nearby-p99', label: `GET /v1/group-orders p99 at ${RATE}/s (${fmt(GROUPS)} groups)`, value: quantile(ours, 0.99), unit: 'ms', baseline: quantile(bareExpress, 0.99), baselineLabel: 'bare Express 5 GET', target: 'p99 < 20 ms', met: quantile(ours, 0.99) < 20 });
} finally {
  await Promise.all([api.stop(), bare.stop()]);
  await services.stop();
}

/** Keep-alive GETs over at most 32 sockets, like an app's connection pool (no connect storms). */
function get(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}
