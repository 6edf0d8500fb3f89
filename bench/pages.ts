/**
 * bench/pages: the two pages in Debian's chromium (headless) against an API process and a worker
 * process. Measures how long the customer's tracking page takes to show the rider, how long the
 * ops map takes to show a fleet, how far the tracking page lags behind location ingest, and how
 * long a fraud alert takes to reach the map. The baseline is the same tracking page's HTML,
 * script and style served by a bare Express static server with no data, in the same run.
 *
 *   npm run bench:pages      (BENCH_RUNS=10 BENCH_RIDERS=500 BENCH_POSTS=30 BENCH_REPORT_SECONDS=0 by default)
 *   BENCH_RIDERS=50000 BENCH_REPORT_SECONDS=5 npm run bench:pages    (seed 000's fleet, every rider reporting every 5 s)
 *
 * The fleet: up to 1,000 riders within 1 km of 강남역, the rest across Seoul (±12 km). With
 * BENCH_REPORT_SECONDS > 0 every rider reports a new position that often while the map is measured.
 */
import express from 'express';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { seedCatalogue } from '../cli/commands/seed.ts';
import { offset } from '../cli/simulate/movement.ts';
import { GANGNAM_STATION } from '../domain/catalogue/seed-data.ts';
import { createLiveLocation } from '../location/live-location.ts';
import { signToken } from '../runtime/tokens.ts';
import { launchBrowser } from '../tests/support/browser.ts';
import { startProcess } from './support/processes.ts';
import { machine, startBenchServices } from './support/services.ts';
import { fmt, median, quantile } from './support/stats.ts';
import { report } from './support/report.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const RIDERS = Number(process.env.BENCH_RIDERS ?? 500);
const POSTS = Number(process.env.BENCH_POSTS ?? 30);
const REPORT_SECONDS = Number(process.env.BENCH_REPORT_SECONDS ?? 0);
const NEAR = 1_000;

const services = await startBenchServices();
const { platform, urls } = services;
const env = { REDIS_URL: urls.redisUrl, DATABASE_URL: urls.databaseUrl, NODE_ENV: 'test', LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1', DISPATCH_OFFER_TIMEOUT_MS: '15000' };
const api = startProcess('api/main.ts', [], env);
const workers = startProcess('workers/main.ts', ['--pools', 'location,orders,dispatch,notifications'], env);
const browser = await launchBrowser();

// Baseline: the tracking page's own files from a bare static server, no data behind them.
const dashboards = path.resolve(import.meta.dirname, '..', 'dashboards');
const bareApp = express();
bareApp.use('/ui', express.static(path.join(dashboards, 'public')));
bareApp.get('/track/:id', (_req, res) => res.sendFile(path.join(dashboards, 'pages', 'track.html')));
const bare = bareApp.listen(0, '127.0.0.1');
await new Promise((r) => bare.once('listening', r));
const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;

const token = (role: 'admin' | 'customer' | 'rider' | 'restaurant', sub: string) => signToken({ role, sub }, platform.config.jwt);

try {
  const apiUrl = await api.waitFor(/"url":"([^"]+)"/);
  await workers.waitFor(/workers ready/);
  await seedCatalogue(platform.db);
  const call = async (method: string, route: string, who: string, body?: unknown) => {
    const res = await fetch(apiUrl + route, { method, headers: { authorization: `Bearer ${who}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (res.status >= 300) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const post = (who: string, at: { lat: number; lng: number }, recordedAt = Date.now()) =>
    call('POST', '/v1/riders/me/locations', who, { points: [{ ...at, recordedAt: new Date(recordedAt).toISOString(), speed: 6, heading: 0, accuracy: 5 }] });

  // An order out for delivery, with its rider.
  const restaurant = await platform.db('restaurants').where('id', 'like', 'rest-seongsu%').orderBy('id').first();
  const item = await platform.db('menu_items').where({ restaurant_id: restaurant.id, available: true }).orderBy('price', 'desc').first();
  const [customer, shop, rider, admin] = await Promise.all([token('customer', 'bench-c'), token('restaurant', restaurant.id), token('rider', 'bench-r'), token('admin', 'ops')]);
  await call('PUT', '/v1/riders/me/status', rider, { status: 'available' });
  await post(rider, offset(restaurant, 80, 0));
  const dropoff = offset(restaurant, 1_500, 400);
  const order = await call('POST', '/v1/orders', customer, { restaurantId: restaurant.id, items: [{ menuItemId: item.id, quantity: Math.ceil(restaurant.min_order / item.price) }], dropoff: { ...dropoff, address: '성동구 서울숲길 1' } });
  await call('POST', `/v1/orders/${order.id}/transitions`, shop, { to: 'COOKING', cookMinutes: 10 });
  let offer;
  for (let i = 0; i < 100 && !offer; i++) {
    offer = (await call('GET', '/v1/riders/me/offers', rider)).offers[0];
    if (!offer) await new Promise((r) => setTimeout(r, 100));
  }
  await call('POST', `/v1/offers/${offer.id}/accept`, rider);
  await call('POST', `/v1/orders/${order.id}/transitions`, shop, { to: 'READY_FOR_PICKUP' });
  await call('POST', `/v1/orders/${order.id}/transitions`, rider, { to: 'PICKED_UP' });
  await call('POST', `/v1/orders/${order.id}/transitions`, rider, { to: 'DELIVERING' });
  await post(rider, offset(restaurant, 300, 80));

  // A fleet for the map, written by the same live-state code the location workers use.
  const live = createLiveLocation(platform.redis, platform.config.queuePrefix);
  const spread = (i: number) => (i < NEAR ? 1_400 : 24_000);
  const fleet = Array.from({ length: RIDERS }, (_, i) => ({ riderId: `fleet-${i}`, ...offset(GANGNAM_STATION, ((i * 7919) % spread(i)) - spread(i) / 2, ((i * 104729) % spread(i)) - spread(i) / 2), recordedAt: Date.now(), speed: 5, heading: 0, accuracy: 5, mocked: false }));
  for (let from = 0; from < fleet.length; from += 1_000) {
    await Promise.all(fleet.slice(from, from + 1_000).map((p) => live.state.setStatus(p.riderId, i(p.riderId) % 3 === 0 ? 'busy' : 'available')));
    await live.apply(fleet.slice(from, from + 1_000));
  }

  // Optionally the fleet keeps reporting: every rider once per REPORT_SECONDS, a tenth of a second's share at a time.
  let reported = 0;
  let reporting: Promise<void> = Promise.resolve();
  let stopReporting = () => {};
  if (REPORT_SECONDS > 0) {
    let running = true;
    stopReporting = () => (running = false);
    reporting = (async () => {
      for (let tick = 0; running; tick++) {
        const started = Date.now();
        const share = Math.ceil(fleet.length / (REPORT_SECONDS * 10));
        const batch = Array.from({ length: share }, (_, j) => fleet[(tick * share + j) % fleet.length]!).map((p) => ({ ...p, ...offset(p, 8, 4), recordedAt: Date.now() }));
        for (const p of batch) Object.assign(fleet[i(p.riderId)]!, { lat: p.lat, lng: p.lng });
        await live.apply(batch);
        reported += batch.length;
        await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - started))));
      }
    })();
  }

  const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
  const timeLoad = async (url: string, ready: (page: import('playwright-core').Page) => Promise<unknown>, options = phone, cookie?: string, after?: (page: import('playwright-core').Page) => Promise<unknown>) => {
    const context = await browser.newContext(options);
    if (cookie) await context.addCookies([{ name: 'deligo_token', value: cookie, url: apiUrl }]);
    const page = await context.newPage();
    const started = performance.now();
    await page.goto(url);
    const load = performance.now() - started;
    await ready(page);
    const shown = performance.now() - started;
    await after?.(page);
    await context.close();
    return { load, shown };
  };

  const baseline = [];
  const tracking = [];
  const map: Array<{ load: number; shown: number; drawMs: number; received: number; applied: number; apiCpuMs: number }> = [];
  const seeAll = (page: import('playwright-core').Page) => page.waitForFunction((n) => (window as any).deligoMap?.riders.size >= n, RIDERS, { timeout: 60_000, polling: 50 });
  for (let run = 0; run < RUNS; run++) {
    baseline.push(await timeLoad(`${bareUrl}/track/x`, async () => {}));
    tracking.push(await timeLoad(`${apiUrl}/track/${order.id}?token=${customer}`, (page) => page.locator('#rider-marker').waitFor({ state: 'visible' })));
    let drawMs = 0;
    let timing = { received: 0, applied: 0 };
    const cpuBefore = await api.cpuSeconds();
    const loaded = await timeLoad(
      `${apiUrl}/admin/map`,
      seeAll,
      { viewport: { width: 1280, height: 800 }, isMobile: false, hasTouch: false },
      admin,
      async (page) => {
        // The redraw of the whole fleet that follows: what each animation frame then costs.
        drawMs = await page.evaluate(() => new Promise<number>((done) => requestAnimationFrame(() => requestAnimationFrame(() => done((window as any).deligoMap.drawMs)))));
        timing = await page.evaluate(() => (window as any).deligoMap.timing);
      },
    );
    map.push({ ...loaded, drawMs, received: timing.received, applied: timing.applied - timing.received, apiCpuMs: ((await api.cpuSeconds()) - cpuBefore) * 1000 });
  }

  // What one open map receives each second once it has its snapshot.
  const streamBytes = await (async () => {
    const res = await fetch(`${apiUrl}/v1/admin/map/stream`, { headers: { authorization: `Bearer ${admin}` } });
    const reader = res.body!.getReader();
    let bytes = 0;
    let snapshot = 0;
    let started = 0;
    const until = async (done: () => boolean) => {
      while (!done()) {
        const { value, done: end } = await reader.read();
        if (end) break;
        bytes += value.byteLength;
        if (!snapshot && new TextDecoder().decode(value).includes('event: frame')) [snapshot, started] = [bytes, Date.now()];
      }
    };
    await until(() => snapshot > 0);
    await until(() => Date.now() - started >= 5_000);
    await reader.cancel();
    return { snapshot, perSecond: (bytes - snapshot) / ((Date.now() - started) / 1000) };
  })();
  if (REPORT_SECONDS === 0) {
    for (const p of fleet) p.recordedAt = Date.now();
    await live.apply(fleet);
  }

  // Ingest → tracking page: the 202 of each post to the moment the page has the position.
  const context = await browser.newContext(phone);
  const page = await context.newPage();
  await page.goto(`${apiUrl}/track/${order.id}?token=${customer}`);
  await page.locator('#rider-marker').waitFor({ state: 'visible' });
  await page.waitForTimeout(1_000);
  const lag: number[] = [];
  for (let k = 0; k < POSTS; k++) {
    const before = await page.evaluate(() => (window as any).deligoTrack.positions);
    await post(rider, offset(restaurant, 300 + k * 25, 80));
    const acked = Date.now();
    await page.waitForFunction((n) => (window as any).deligoTrack.positions > n, before, { timeout: 10_000 });
    lag.push((await page.evaluate(() => (window as any).deligoTrack.lastPositionAt)) - acked);
    await page.waitForTimeout(600);
  }
  await context.close();

  // Teleport → ops map: the trace's send to the alert's arrival in the page.
  const mapContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await mapContext.addCookies([{ name: 'deligo_token', value: admin, url: apiUrl }]);
  const mapPage = await mapContext.newPage();
  await mapPage.goto(`${apiUrl}/admin/map`);
  await seeAll(mapPage);
  const alerts: number[] = [];
  for (let k = 0; k < 5; k++) {
    const spoofer = await token('rider', `spoof-${k}`);
    const start = Date.now() - 3_000;
    await post(spoofer, GANGNAM_STATION, start);
    await new Promise((r) => setTimeout(r, 500));
    const sent = Date.now();
    await post(spoofer, offset(GANGNAM_STATION, 6_000, 0), start + 2_000);
    await mapPage.waitForFunction((id) => (window as any).deligoMap.alerts.some((a: any) => a.riderId === id), `spoof-${k}`, { timeout: 15_000 });
    alerts.push((await mapPage.evaluate((id) => (window as any).deligoMap.alerts.find((a: any) => a.riderId === id).receivedAt, `spoof-${k}`)) - sent);
  }
  await mapContext.close();
  stopReporting();
  await reporting;

  const row = (name: string, xs: number[], target = '') => `| ${name} | ${fmt(median(xs))} | ${fmt(quantile(xs, 0.95))} | ${fmt(Math.max(...xs))} | ${target} |`;
  console.log(`\nbench/pages  ${new Date().toISOString()}  ${machine()}`);
  console.log(`${RUNS} cold loads each (new browser context), ${RIDERS} riders on the map (${Math.min(RIDERS, NEAR)} within 1 km of 강남역), ${REPORT_SECONDS > 0 ? `each reporting every ${REPORT_SECONDS} s (${reported} points written during the run)` : 'not moving'}, ${POSTS} location posts, 5 teleports\n`);
  console.log('| measure | median (ms) | p95 (ms) | max (ms) | target |');
  console.log('|---|---|---|---|---|');
  console.log(row('baseline: the same page files from a bare static server, `load`', baseline.map((b) => b.load)));
  console.log(row('tracking page, `load`', tracking.map((b) => b.load)));
  console.log(row('tracking page, rider shown (data fetched, marker drawn)', tracking.map((b) => b.shown), '< 2,000'));
  console.log(row(`ops map, all ${RIDERS} riders drawn`, map.map((b) => b.shown), '< 2,000'));
  console.log(row('ops map, first load of the API process (reads the whole fleet)', map.slice(0, 1).map((b) => b.shown), '< 2,000'));
  console.log(row('ops map, navigation → snapshot received', map.map((b) => b.received)));
  console.log(row('ops map, snapshot parsed and applied in the page', map.map((b) => b.applied)));
  console.log(row(`ops map, one canvas redraw of ${RIDERS} riders`, map.map((b) => b.drawMs)));
  console.log(row('ops map, API process CPU per map load (ms of CPU)', map.map((b) => b.apiCpuMs)));
  console.log(row('ingest (202) → position on the tracking page', lag, '< 1,000'));
  console.log(row('teleport sent → fraud alert on the map', alerts, '< 2,000'));
  console.log(`\nops map stream: snapshot ${fmt(streamBytes.snapshot / 1024)} KiB (${fmt(streamBytes.snapshot / Math.max(1, RIDERS), 1)} bytes a rider), then ${fmt(streamBytes.perSecond / 1024)} KiB/s of frames`);
  report({ bench: 'pages', metric: 'tracking-shown', label: 'tracking page, rider shown (median)', value: median(tracking.map((b) => b.shown)), unit: 'ms', baseline: median(baseline.map((b) => b.load)), baselineLabel: 'bare static server, load', target: '< 2,000 ms', met: median(tracking.map((b) => b.shown)) < 2_000 });
  report({ bench: 'pages', metric: 'map-shown', label: `ops map, ${RIDERS} riders drawn (median)`, value: median(map.map((b) => b.shown)), unit: 'ms', baseline: median(baseline.map((b) => b.load)), baselineLabel: 'bare static server, load', target: '< 2,000 ms', met: median(map.map((b) => b.shown)) < 2_000 });
  console.log('\nThe marker then glides to the fix in at most 900 ms (geo.js glideDuration).');
} finally {
  await browser.close();
  bare.close();
  await Promise.all([api.stop(), workers.stop()]);
  await services.stop();
}

function i(id: string): number {
  return Number(id.split('-')[1]);
}
