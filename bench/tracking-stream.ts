/**
 * bench/tracking-stream: 2,000 open `GET /v1/orders/:id/tracking/stream` connections (10 per order
 * across 200 orders with assigned riders) on the real API process, while those riders post a fix a
 * second through the real ingest API and location worker. Measures ingest → `position` event
 * received by every watcher; beside raw Redis PUBLISH → subscriber at the same message rate, in the
 * same run.
 *
 *   npm run bench:tracking-stream     (BENCH_SECONDS=30 BENCH_STREAMS=2000 by default)
 */
import { Redis } from 'ioredis';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { createOrderTracking } from '../location/order-tracking.ts';
import { signToken } from '../runtime/tokens.ts';
import { around, GANGNAM_STATION, seeded } from './support/hot-spot.ts';
import { startProcess } from './support/processes.ts';
import { machine, startBenchServices } from './support/services.ts';
import { fmt, quantile } from './support/stats.ts';
import { report } from './support/report.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const STREAMS = Number(process.env.BENCH_STREAMS ?? 2_000);
const PER_ORDER = 10;
const ORDERS = Math.ceil(STREAMS / PER_ORDER);

const services = await startBenchServices();
const { platform, urls } = services;
const env = { REDIS_URL: urls.redisUrl, DATABASE_URL: urls.databaseUrl, NODE_ENV: 'test', LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1' };
const api = startProcess('api/main.ts', [], env);
const workers = startProcess('workers/main.ts', ['--pools', 'location'], env);
const controllers: AbortController[] = [];

try {
  const apiUrl = await api.waitFor(/"url":"([^"]+)"/);
  await workers.waitFor(/workers ready/);
  const secret = platform.config.jwt;
  const tracking = createOrderTracking(platform.redis, platform.config.queuePrefix);
  const random = seeded(5);

  // Orders being delivered, each with its rider attached, as dispatch and the relay leave them.
  const riders = Array.from({ length: ORDERS }, (_, i) => ({ id: `sr-${i}`, orderId: `so-${i}`, customer: `sc-${i}`, ...around(random, GANGNAM_STATION, 3_000), step: 0 }));
  for (const r of riders) {
    await tracking.applyStatus({
      orderId: r.orderId, version: 5, from: 'PICKED_UP', to: 'DELIVERING', customerId: r.customer, restaurantId: 'rest-gangnam-01', restaurantName: '강남 분식',
      riderId: r.id, cookMinutes: 15, etaMinutes: 12, reason: null, itemCount: 2, total: 24_000,
      restaurant: { lat: r.lat, lng: r.lng }, dropoff: { lat: r.lat + 0.02, lng: r.lng }, etaAt: new Date(Date.now() + 720_000).toISOString(),
    });
    await tracking.attachRider(r.orderId, r.id);
  }
  const riderTokens = await Promise.all(riders.map((r) => signToken({ sub: r.id, role: 'rider' }, secret)));
  const customerTokens = await Promise.all(riders.map((r) => signToken({ sub: r.customer, role: 'customer' }, secret)));

  // Each watcher: position events matched to the moment their fix was posted.
  const sentAt = new Map<string, { sent: number; acked?: number }>();
  const fromSend: number[] = [];
  const fromAck: number[] = [];
  let opened = 0;
  let failed = 0;
  const watch = async (index: number) => {
    const r = riders[index % ORDERS]!;
    const controller = new AbortController();
    controllers.push(controller);
    const res = await fetch(`${apiUrl}/v1/orders/${r.orderId}/tracking/stream`, { headers: { authorization: `Bearer ${customerTokens[index % ORDERS]}` }, signal: controller.signal });
    if (res.status !== 200 || !res.body) return void failed++;
    opened++;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const now = Date.now();
        buffer += decoder.decode(chunk, { stream: true });
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          if (!block.includes('"type":"position"')) continue;
          const update = JSON.parse(block.slice(block.indexOf('data: ') + 6)) as { rider: { recordedAt: string } };
          const sent = sentAt.get(`${r.orderId}@${update.rider.recordedAt}`);
          if (!sent) continue;
          fromSend.push(now - sent.sent);
          if (sent.acked !== undefined) fromAck.push(Math.max(0, now - sent.acked));
        }
      }
    } catch {
      // closed at the end of the run
    }
  };
  const openDeadline = Date.now() + 60_000;
  for (let i = 0; i < STREAMS; i += 200) {
    Array.from({ length: Math.min(200, STREAMS - i) }, (_, j) => watch(i + j).catch(() => void failed++));
    while (opened + failed < i + Math.min(200, STREAMS - i) && Date.now() < openDeadline) await sleep(50);
  }

  // Baseline: raw PUBLISH → one subscriber holding a channel per order, at the riders' message rate.
  const subscriber = new Redis(urls.redisUrl);
  const raw: number[] = [];
  await subscriber.subscribe(...riders.map((r) => `bench-raw:${r.orderId}`));
  subscriber.on('message', (_channel: string, message: string) => void raw.push(Date.now() - Number(message)));
  const rawUntil = Date.now() + Math.min(SECONDS, 10) * 1_000;
  while (Date.now() < rawUntil) {
    const tick = Date.now();
    await Promise.all(riders.map((r) => platform.redis.publish(`bench-raw:${r.orderId}`, String(Date.now()))));
    await sleep(Math.max(0, 1_000 - (Date.now() - tick)));
  }
  await sleep(500);
  subscriber.disconnect();

  // Riders ride north at 5 m/s with a fix a second, each posted through the ingest API.
  let posted = 0;
  let postErrors = 0;
  const until = Date.now() + SECONDS * 1_000;
  while (Date.now() < until) {
    const tick = Date.now();
    await Promise.all(
      riders.map(async (r, i) => {
        // Spread the riders over the second, as phones are.
        await sleep((i * 1_000) / ORDERS);
        const recordedAt = new Date(Date.now()).toISOString();
        r.step++;
        const entry: { sent: number; acked?: number } = { sent: Date.now() };
        sentAt.set(`${r.orderId}@${recordedAt}`, entry);
        try {
          const res = await fetch(`${apiUrl}/v1/riders/me/locations`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${riderTokens[i]}` },
            body: JSON.stringify({ points: [{ lat: r.lat + (r.step * 5) / 111_320, lng: r.lng, recordedAt, speed: 5, heading: 0, accuracy: 6 }] }),
          });
          await res.arrayBuffer();
          if (res.status === 202) {
            entry.acked = Date.now();
            posted++;
          } else postErrors++;
        } catch {
          postErrors++;
        }
      }),
    );
    await sleep(Math.max(0, 1_000 - (Date.now() - tick)));
  }
  await sleep(2_000);
  const expected = posted * PER_ORDER;

  console.log(`\nbench/tracking-stream  ${new Date().toISOString()}  ${machine()}`);
  console.log(`${fmt(opened)} open streams (${fmt(failed)} refused) over ${fmt(ORDERS)} orders; ${fmt(ORDERS)} riders posting a fix a second for ${SECONDS} s through the ingest API and location worker\n`);
  console.log('| measure | events | p50 (ms) | p99 (ms) | max (ms) | target |');
  console.log('|---|---|---|---|---|---|');
  const row = (name: string, xs: number[], target = '') => `| ${name} | ${fmt(xs.length)} | ${fmt(quantile(xs, 0.5))} | ${fmt(quantile(xs, 0.99))} | ${fmt(Math.max(...xs))} | ${target} |`;
  console.log(row('ingest POST accepted (202) → position event received', fromAck, 'p99 < 500'));
  console.log(row('ingest POST sent → position event received', fromSend));
  console.log(row('baseline: raw Redis PUBLISH → subscriber, same message rate', raw));
  console.log(`\nfixes accepted ${fmt(posted)} (errors ${postErrors}); position events received ${fmt(fromSend.length)} of ${fmt(expected)} expected (${fmt((fromSend.length / Math.max(1, expected)) * 100, 1)}%)`);
  report({ bench: 'tracking-stream', metric: 'event-p99', label: `ingest accepted → position event on ${fmt(opened)} streams, p99`, value: quantile(fromAck, 0.99), unit: 'ms', baseline: quantile(raw, 0.99), baselineLabel: 'raw Redis PUBLISH → subscriber', target: 'p99 < 500 ms, every event delivered', met: quantile(fromAck, 0.99) < 500 && fromSend.length >= expected });
  console.log(`API RSS ${fmt(await api.rssMb())} MB; load average at the end (1/5 min): ${os.loadavg().slice(0, 2).map((n) => n.toFixed(1)).join(' / ')}`);
} finally {
  for (const c of controllers) c.abort();
  await Promise.all([api.stop(), workers.stop()]);
  await services.stop();
}
