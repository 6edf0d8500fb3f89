/**
 * bench/http-floor: what a bare Express 5 JSON POST handler (bench/support/bare-express.ts, in its
 * own process) answers at a fixed rate, as each load generator bench/orders has used measures it.
 * Only the bare server and the generator run (no Redis, Postgres or deligo process), so whatever
 * separates the rows is the generator.
 *
 *   npm run bench:http-floor      (BENCH_SECONDS=10 BENCH_RATE=500, ~1 min)
 *
 * 1. autocannon with `overallRate` in the bench process (bench/orders until 2026-11-24): each of
 *    the 64 connections sends its share of a second back to back, then waits for the next second;
 *    slow answers are recorded with coordinated-omission samples spaced ceil(1 / per-connection
 *    rate) = 1 ms apart.
 * 2. The same without those synthetic samples (`ignoreCoordinatedOmission`).
 * 3. Paced by the bench process itself, latency from when each request was sent (bench/orders'
 *    second measurement until 2026-11-24).
 * 4. Paced by a generator in its own process, latency from when each request was due
 *    (bench/support/open-loop.ts, what bench/orders uses now).
 */
import autocannon from 'autocannon';
import http from 'node:http';
import os from 'node:os';
import { openLoop, settle, cpuTicks, type OpenLoopRequest } from './support/open-loop.ts';
import { startProcess } from './support/processes.ts';
import { machine } from './support/services.ts';
import { fmt, paced, quantile } from './support/stats.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const WARMUP = 2;
// An order-sized body (bench/orders sends one like it).
const body = JSON.stringify({ restaurantId: 'rest_0123456789', items: [{ menuItemId: 'menu_0123456789', quantity: 2 }], dropoff: { lat: 37.4979, lng: 127.0276, address: '서울 강남구 테헤란로 152' } });
const headers = { 'content-type': 'application/json', authorization: `Bearer ${'x'.repeat(180)}`, 'idempotency-key': 'bench-0' };
const PATH = '/v1/riders/me/locations';

const bare = startProcess('bench/support/bare-express.ts', [], {});
try {
  const url = await bare.waitFor(/listening (\S+)/);
  const rows: Array<{ name: string; p50: number; p99: number; max: number; cpuUs: number; steal: number }> = [];
  const phase = async (name: string, run: () => Promise<{ p50: number; p99: number; max: number; answered: number }>) => {
    await settle([() => bare.cpuSeconds()]);
    const [cpu, ticks] = [await bare.cpuSeconds(), await cpuTicks()];
    const r = await run();
    const after = await cpuTicks();
    rows.push({ name, ...r, cpuUs: (((await bare.cpuSeconds()) - cpu) * 1e6) / Math.max(1, r.answered), steal: (after.steal - ticks.steal) / Math.max(1, after.total - ticks.total) });
  };
  const cannon = (ignoreCoordinatedOmission: boolean) => async () => {
    await autocannon({ url, connections: 64, duration: WARMUP, overallRate: RATE, requests: [{ method: 'POST', path: PATH, body, headers }] });
    const r = await autocannon({ url, connections: 64, duration: SECONDS, overallRate: RATE, ignoreCoordinatedOmission, requests: [{ method: 'POST', path: PATH, body, headers }] });
    return { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, answered: r['2xx'] };
  };
  await phase('autocannon overallRate, in the bench process (as before)', cannon(false));
  await phase('autocannon overallRate, no coordinated-omission samples', cannon(true));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  await phase('paced in the bench process, latency from send (as before)', async () => {
    const post = () =>
      new Promise<void>((resolve, reject) => {
        const req = http.request(`${url}${PATH}`, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => res.resume().on('end', resolve));
        req.on('error', reject);
        req.end(body);
      });
    await paced(Array.from({ length: RATE * WARMUP }), RATE, post);
    const latencies = await paced(Array.from({ length: RATE * SECONDS }), RATE, post);
    return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: Math.max(...latencies), answered: latencies.length };
  });
  await phase('open loop from its own process, latency from due time (now)', async () => {
    const requests: OpenLoopRequest[] = Array.from({ length: RATE * (SECONDS + WARMUP) }, () => ({ path: PATH, headers, body }));
    const r = await openLoop(url, requests, { rate: RATE, seconds: SECONDS, warmupSeconds: WARMUP });
    return { p50: quantile(r.latencies, 0.5), p99: quantile(r.latencies, 0.99), max: Math.max(...r.latencies), answered: r.latencies.length };
  });
  agent.destroy();

  console.log(`\nbench/http-floor  ${new Date().toISOString()}  ${machine()}`);
  console.log(`bare Express 5 JSON POST (own process), ${fmt(RATE)} requests/s for ${SECONDS} s after ${WARMUP} s of warm-up, 64 connections, nothing else of deligo running\n`);
  console.log('| generator | p50 (ms) | p99 (ms) | max (ms) | server CPU per request (µs) | steal |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${fmt(r.max, 1)} | ${fmt(r.cpuUs)} | ${fmt(r.steal * 100, 1)} % |`);
  console.log(`load average at the end (1/5 min): ${os.loadavg().slice(0, 2).map((n) => n.toFixed(1)).join(' / ')}`);
} finally {
  await bare.stop();
}
process.exit(process.exitCode ?? 0);
