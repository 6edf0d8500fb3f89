/**
 * bench/orders: `POST /v1/orders` at 500 orders/s through the real API process (with the orders
 * pool relaying each new order's outbox message), beside a bare Express 5 JSON POST at the same
 * rate, in the same run.
 *
 *   npm run bench:orders        (BENCH_SECONDS=30 BENCH_ORDERS_PER_SECOND=500 by default)
 *
 * Every request is a valid order (items, minimum order, drop-off within reach) from one of 1,000
 * customers, with its own Idempotency-Key, to a restaurant near 강남역. Target: p99 < 100 ms.
 */
import autocannon from 'autocannon';
import http from 'node:http';
import os from 'node:os';
import { seedCatalogue } from '../cli/commands/seed.ts';
import { signToken } from '../runtime/tokens.ts';
import { around, gangnamRestaurants, seeded } from './support/hot-spot.ts';
import { startProcess } from './support/processes.ts';
import { machine, startBenchServices } from './support/services.ts';
import { fmt, paced, quantile } from './support/stats.ts';
import { report } from './support/report.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const RATE = Number(process.env.BENCH_ORDERS_PER_SECOND ?? 500);
const CUSTOMERS = 1_000;
// The paced runs: each request starts on its own schedule (open loop), so a slow answer never
// delays the next request, and its latency counts from when it was due (a wait for a free socket included).
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** POSTs `body` and resolves with the status once the whole answer is read. */
function post(url: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const services = await startBenchServices();
const { platform, urls } = services;
const env = { REDIS_URL: urls.redisUrl, DATABASE_URL: urls.databaseUrl, NODE_ENV: 'test', LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1' };
// BENCH_PROFILE_API=dir writes a CPU profile of the API process there (open it in Chrome DevTools).
const api = startProcess('api/main.ts', [], env, process.env.BENCH_PROFILE_API ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_API}`] : []);
const workers = startProcess('workers/main.ts', ['--pools', 'orders'], env);
const bare = startProcess('bench/support/bare-express.ts', [], {});

try {
  const apiUrl = await api.waitFor(/"url":"([^"]+)"/);
  const bareUrl = await bare.waitFor(/listening (\S+)/);
  await workers.waitFor(/workers ready/);
  await seedCatalogue(platform.db);
  const restaurants = await gangnamRestaurants(platform.db);
  const tokens = await Promise.all(Array.from({ length: CUSTOMERS }, (_, i) => signToken({ sub: `oc-${i}`, role: 'customer' }, platform.config.jwt)));
  // Users are created on first use; do that before the measured run.
  for (let i = 0; i < CUSTOMERS; i += 100) await Promise.all(tokens.slice(i, i + 100).map((t) => fetch(`${apiUrl}/v1/me`, { headers: { authorization: `Bearer ${t}` } }).then((r) => r.arrayBuffer())));

  const random = seeded(3);
  let next = 0;
  const order = () => {
    const i = next++;
    const r = restaurants[i % restaurants.length]!;
    return {
      token: tokens[i % CUSTOMERS]!,
      key: `bench-${i}`,
      body: JSON.stringify({ restaurantId: r.id, items: [{ menuItemId: r.item, quantity: r.quantity }], dropoff: { ...around(random, r, 2_000), address: '서울 강남구 테헤란로 152' } }),
    };
  };
  const load = (url: string, path: string) =>
    autocannon({
      url,
      connections: 64,
      duration: SECONDS,
      overallRate: RATE,
      requests: [
        {
          method: 'POST',
          path,
          setupRequest: (req) => {
            const o = order();
            return { ...req, body: o.body, headers: { 'content-type': 'application/json', authorization: `Bearer ${o.token}`, 'idempotency-key': o.key } };
          },
        },
      ],
    });

  // The bare handler parses the same JSON body and answers 202 (bench/support/bare-express.ts).
  // CPU per request, from /proc: steadier than requests/s on a shared machine.
  let cpu = await bare.cpuSeconds();
  const baseline = await load(bareUrl, '/v1/riders/me/locations');
  const bareCpu = (await bare.cpuSeconds()) - cpu;
  const before = Number((await platform.db('orders').count('* as n'))[0]!.n);
  const cpuBefore = await api.cpuSeconds();
  const workerCpuBefore = await workers.cpuSeconds();
  const ours = await load(apiUrl, '/v1/orders');
  const cpuAfter = await api.cpuSeconds();
  const workerCpuAfter = await workers.cpuSeconds();
  const created = Number((await platform.db('orders').count('* as n'))[0]!.n) - before;

  // The same load again, paced by this process instead of autocannon (whose own pacing on a
  // shared 2-core box gives even the bare handler a p99 of hundreds of ms).
  const pacedRun = async (url: string) => {
    let failed = 0;
    const orders = Array.from({ length: RATE * SECONDS }, order);
    const latencies = await paced(orders, RATE, async (o) => {
      const status = await post(url, { 'content-type': 'application/json', authorization: `Bearer ${o.token}`, 'idempotency-key': o.key }, o.body);
      if (status < 200 || status >= 300) failed++;
    });
    return { latencies, failed };
  };
  const pacedBare = await pacedRun(`${bareUrl}/v1/riders/me/locations`);
  const pacedOurs = await pacedRun(`${apiUrl}/v1/orders`);

  console.log(`\nbench/orders  ${new Date().toISOString()}  ${machine()}`);
  console.log(`${fmt(RATE)} requests/s offered for ${SECONDS} s, 64 connections, ${fmt(CUSTOMERS)} customers, ${restaurants.length} restaurants near 강남역\n`);
  console.log('| run | requests/s | p50 (ms) | p97.5 (ms) | p99 (ms) | max (ms) | non-2xx | server CPU per request (µs) | target |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const [name, r, cpuSeconds, target] of [['bare Express 5 JSON POST', baseline, bareCpu, ''], ['deligo POST /v1/orders', ours, cpuAfter - cpuBefore, 'p99 < 100']] as const) {
    const perRequest = (cpuSeconds * 1e6) / Math.max(1, r['2xx']);
    console.log(`| ${name} | ${fmt(r['2xx'] / SECONDS)} | ${r.latency.p50} | ${r.latency.p97_5} | ${r.latency.p99} | ${r.latency.max} | ${r.non2xx + r.errors + r.timeouts} | ${fmt(perRequest)} | ${target} |`);
  }
  console.log(`\norders written: ${fmt(created)} for ${fmt(ours['2xx'])} answered 201 (autocannon run)`);
  console.log(`\npaced by the bench process (${fmt(RATE)}/s for ${SECONDS} s, keep-alive, up to 64 sockets; latency from when each request was due):\n`);
  console.log('| run | p50 (ms) | p99 (ms) | max (ms) | non-2xx | target |');
  console.log('|---|---|---|---|---|---|');
  for (const [name, r, target] of [['bare Express 5 JSON POST', pacedBare, ''], ['deligo POST /v1/orders', pacedOurs, 'p99 < 100']] as const) {
    console.log(`| ${name} | ${fmt(quantile(r.latencies, 0.5), 1)} | ${fmt(quantile(r.latencies, 0.99), 1)} | ${fmt(Math.max(...r.latencies), 1)} | ${r.failed} | ${target} |`);
  }
  report({ bench: 'orders', metric: 'p99', label: `POST /v1/orders p99 at ${fmt(RATE)}/s offered`, value: ours.latency.p99, unit: 'ms', baseline: baseline.latency.p99, baselineLabel: 'bare Express 5 JSON POST', target: 'p99 < 100 ms', met: ours.latency.p99 < 100 });
  report({ bench: 'orders', metric: 'p99-paced', label: `POST /v1/orders p99 at ${fmt(RATE)}/s, paced by the bench`, value: quantile(pacedOurs.latencies, 0.99), unit: 'ms', baseline: quantile(pacedBare.latencies, 0.99), baselineLabel: 'bare Express 5 JSON POST, paced the same', target: 'p99 < 100 ms', met: quantile(pacedOurs.latencies, 0.99) < 100 && pacedOurs.failed === 0 });
  report({ bench: 'orders', metric: 'orders-per-s', label: 'orders placed per second', value: ours['2xx'] / SECONDS, unit: 'orders/s', baseline: baseline['2xx'] / SECONDS, baselineLabel: 'bare Express 5 JSON POST' });
  report({ bench: 'orders', metric: 'api-cpu-per-order', label: 'API CPU per order placed', value: ((cpuAfter - cpuBefore) * 1e6) / Math.max(1, ours['2xx']), unit: 'µs' });
  report({ bench: 'orders', metric: 'worker-cpu-per-order', label: 'orders worker (outbox relay) CPU per order placed', value: ((workerCpuAfter - workerCpuBefore) * 1e6) / Math.max(1, ours['2xx']), unit: 'µs' });
  console.log(`load average at the end (1/5 min): ${os.loadavg().slice(0, 2).map((n) => n.toFixed(1)).join(' / ')}`);
} finally {
  await Promise.all([api.stop(), workers.stop(), bare.stop()]);
  await services.stop();
}
// A connection left open must never keep the benchmark (and the shared bench lock) alive.
process.exit(process.exitCode ?? 0);
