/**
 * bench/pages: the two pages in Debian's chromium (headless) against an API process and a worker
 * process. Measures how long the customer's tracking page takes to show the rider, how long the
 * ops map takes to show a fleet, how far the tracking page lags behind location ingest, and how
 * long a fraud alert takes to reach the map. The baseline is the same tracking page's HTML,
 * script and style served by a bare Express static server with no data, in the same run.
 *
 *   npm run bench:pages      (BENCH_RUNS=10 BENCH_RIDERS=500 BENCH_POSTS=30 by default)
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
  const fleet = Array.from({ length: RIDERS }, (_, i) => ({ riderId: `fleet-${i}`, ...offset(GANGNAM_STATION, ((i * 7919) % 3000) - 1500, ((i * 104729) % 3000) - 1500), recordedAt: Date.now(), speed: 5, heading: 0, accuracy: 5, mocked: false }));
  for (const p of fleet) await live.state.setStatus(p.riderId, i(p.riderId) % 3 === 0 ? 'busy' : 'available');
  await live.apply(fleet);

  const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
  const timeLoad = async (url: string, ready: (page: import('playwright-core').Page) => Promise<unknown>, options = phone, cookie?: string) => {
    const context = await browser.newContext(options);
    if (cookie) await context.addCookies([{ name: 'deligo_token', value: cookie, url: apiUrl }]);
    const page = await context.newPage();
    const started = performance.now();
    await page.goto(url);
    const load = performance.now() - started;
    await ready(page);
    const shown = performance.now() - started;
    await context.close();
    return { load, shown };
  };

  const baseline = [];
  const tracking = [];
  const map = [];
  for (let run = 0; run < RUNS; run++) {
    baseline.push(await timeLoad(`${bareUrl}/track/x`, async () => {}));
    tracking.push(await timeLoad(`${apiUrl}/track/${order.id}?token=${customer}`, (page) => page.locator('#rider-marker').waitFor({ state: 'visible' })));
    map.push(
      await timeLoad(
        `${apiUrl}/admin/map`,
        (page) => page.waitForFunction((n) => (window as any).deligoMap?.riders.size >= n, RIDERS, { timeout: 30_000 }),
        { viewport: { width: 1280, height: 800 }, isMobile: false, hasTouch: false },
        admin,
      ),
    );
  }
  for (const p of fleet) p.recordedAt = Date.now();
  await live.apply(fleet);

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
  await mapPage.waitForFunction((n) => (window as any).deligoMap?.riders.size >= n, RIDERS, { timeout: 30_000 });
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

  const row = (name: string, xs: number[], target = '') => `| ${name} | ${fmt(median(xs))} | ${fmt(quantile(xs, 0.95))} | ${fmt(Math.max(...xs))} | ${target} |`;
  console.log(`\nbench/pages  ${new Date().toISOString()}  ${machine()}`);
  console.log(`${RUNS} cold loads each (new browser context), ${RIDERS} riders on the map, ${POSTS} location posts, 5 teleports\n`);
  console.log('| measure | median (ms) | p95 (ms) | max (ms) | target |');
  console.log('|---|---|---|---|---|');
  console.log(row('baseline: the same page files from a bare static server, `load`', baseline.map((b) => b.load)));
  console.log(row('tracking page, `load`', tracking.map((b) => b.load)));
  console.log(row('tracking page, rider shown (data fetched, marker drawn)', tracking.map((b) => b.shown), '< 2,000'));
  console.log(row(`ops map, all ${RIDERS} riders drawn`, map.map((b) => b.shown), '< 2,000'));
  console.log(row('ingest (202) → position on the tracking page', lag, '< 1,000'));
  console.log(row('teleport sent → fraud alert on the map', alerts, '< 2,000'));
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
