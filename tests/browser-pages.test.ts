import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { seedCatalogue } from '../cli/commands/seed.ts';
import { offset } from '../cli/simulate/movement.ts';
import { runSimulation, type SimulationResult } from '../cli/simulate/simulation.ts';
import { GANGNAM_STATION } from '../domain/catalogue/seed-data.ts';
import { createLiveLocation } from '../location/live-location.ts';
import { queueShards } from '../runtime/queue-registry.ts';
import { runPools } from '../workers/run-pools.ts';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { createApp } from '../api/app.ts';
import { listen } from '../api/server.ts';
import { launchBrowser } from './support/browser.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { createTestPlatform, eventually, type TestPlatform } from './support/services.ts';

/** Screenshots of every run, kept as test artifacts (.data is ignored by git). */
const ARTIFACTS = path.resolve(import.meta.dirname, '..', '.data', 'artifacts');

describe('the pages people look at, in a real browser', () => {
  let platform: TestPlatform;
  let api: TestApi;
  let browser: Browser;
  let adminPage: Page;

  const put = async (route: string, body: unknown, token: string) =>
    fetch(`${api.url}${route}`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  const fix = async (token: string, at: { lat: number; lng: number }, recordedAt = Date.now()) => {
    const res = await api.post('/v1/riders/me/locations', { points: [{ ...at, recordedAt: new Date(recordedAt).toISOString(), speed: 6, heading: 0, accuracy: 5 }] }, { token });
    assert.equal(res.status, 202, await res.text());
  };
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, name) });

  /** A browser session signed in as an admin through the login form, landing on `next`. */
  async function signIn(next: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const first = await page.goto(`${api.url}${next}`);
    assert.equal(first?.status(), 401);
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByLabel('Admin token').fill(await api.token('admin', 'ops'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${api.url}${next}`);
    return page;
  }

  before(async () => {
    await fs.mkdir(ARTIFACTS, { recursive: true });
    platform = await createTestPlatform({ DISPATCH_OFFER_TIMEOUT_MS: '6000' });
    api = await startTestApi(platform);
    await seedCatalogue(platform.db);
    await runPools(platform, platform.releasers, ['location', 'orders', 'dispatch', 'notifications']);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await platform.cleanup();
  });

  it('an admin signs in and reaches the ops map; the map shows every simulated rider and a queue strip into Bull Board', async () => {
    adminPage = await signIn('/admin/map');
    const riders = 6;
    let result: SimulationResult | undefined;
    const simulation = runSimulation({
      baseUrl: api.url,
      secret: platform.config.jwt.secret,
      riders,
      ordersPerMinute: 30,
      hotspot: 'gangnam',
      durationMs: 20_000,
      seed: 8,
      runId: 'brw',
      cookSecondsPerMinute: 0.2,
    }).then((r) => (result = r));
    const ids = Array.from({ length: riders }, (_, i) => `sim-brw-r${i + 1}`);
    await adminPage.waitForFunction(
      (wanted) => {
        const map = (window as any).deligoMap;
        return wanted.every((id: string) => ['available', 'busy'].includes(map?.riders.get(id)?.rider.status));
      },
      ids,
      { timeout: 30_000 },
    );
    const onDuty = async () => Number(await adminPage.locator('#legend [data-status="available"] b').innerText()) + Number(await adminPage.locator('#legend [data-status="busy"] b').innerText());
    await eventually(async () => (await onDuty()) === riders, 10_000, 'the legend to count every rider');
    await eventually(async () => Number(await adminPage.locator('#order-total').innerText()) > 0, 20_000, 'an open order on the map');
    await shot(adminPage, 'ops-map-simulation.png');

    for (const { label, name } of queueShards(platform.config.queueShards)) {
      const link = adminPage.locator(`#queues a[data-queue="${label}"]`);
      assert.equal(await link.getAttribute('href'), `/admin/queues/queue/${encodeURIComponent(name)}`);
    }
    await simulation;
    assert.ok(result!.stats.orders.placed > 0, 'the simulation placed orders');
    assert.ok(result!.stats.points >= riders * 3, `${result!.stats.points} points posted`);
    const failures = Object.keys(result!.stats.errors).filter((code) => code === 'network' || Number(code) >= 500);
    assert.deepEqual(failures, [], JSON.stringify(result!.stats.errors));
  });

  it('a teleport trace shows a fraud alert on the map, naming the rule, within 2 s', async (t) => {
    const rider = await api.token('rider', 'tp-1');
    await put('/v1/riders/me/status', { status: 'available' }, rider);
    const start = Date.now() - 4_000;
    await fix(rider, GANGNAM_STATION, start);
    await adminPage.waitForFunction(() => (window as any).deligoMap.riders.has('tp-1'), null, { timeout: 15_000 });
    // 6 km in 2 s.
    const sent = Date.now();
    await fix(rider, offset(GANGNAM_STATION, 6_000, 0), start + 2_000);
    const alert = adminPage.locator('#alerts li[data-rider="tp-1"]').first();
    await alert.waitFor({ timeout: 15_000 });
    const received = await adminPage.evaluate(() => (window as any).deligoMap.alerts.find((a: { riderId: string }) => a.riderId === 'tp-1').receivedAt);
    t.diagnostic(`alert on the map ${received - sent} ms after the trace was sent`);
    assert.equal(await alert.getAttribute('data-rule'), 'teleport');
    assert.match(await alert.innerText(), /teleport/);
    assert.ok(received - sent < 2_000, `the alert reached the map ${received - sent} ms after the trace`);
    await shot(adminPage, 'ops-map-fraud-alert.png');
    await put('/v1/riders/me/status', { status: 'offline' }, rider);
  });

  it('a fleet of thousands: every rider reaches the page and is drawn by colour, and a status change alone recolours a rider', async () => {
    const live = createLiveLocation(platform.redis, platform.prefix);
    const count = 5_000;
    const now = Date.now();
    // Spread over 6 km around the station; a fifth silent for a minute (stale), a quarter busy.
    const fleet = Array.from({ length: count }, (_, i) => ({ riderId: `fl-${i}`, ...offset(GANGNAM_STATION, ((i * 7919) % 6_000) - 3_000, ((i * 104_729) % 6_000) - 3_000), recordedAt: i % 5 === 0 ? now - 60_000 : now, speed: 5, heading: 0, accuracy: 5, mocked: false }));
    for (let from = 0; from < count; from += 500) {
      const chunk = fleet.slice(from, from + 500);
      await Promise.all(chunk.map((p, j) => live.state.setStatus(p.riderId, (from + j) % 4 === 1 ? 'busy' : 'available')));
      await live.apply(chunk);
    }
    await adminPage.waitForFunction((n) => [...(window as any).deligoMap.riders.keys()].filter((id: string) => id.startsWith('fl-')).length >= n, count, { timeout: 60_000, polling: 250 });
    await adminPage.click('#fit');
    // Thousands in view: small squares, one path per colour, every one of them drawn.
    await adminPage.waitForFunction((n) => (window as any).deligoMap.shown >= n, count, { timeout: 15_000 });
    const drawn = await adminPage.evaluate(() => {
      const map = (window as any).deligoMap;
      const mine = [...map.riders.values()].filter((e: any) => e.rider.id.startsWith('fl-'));
      return { stale: mine.filter((e: any) => e.rider.status === 'stale').length, busy: mine.filter((e: any) => e.rider.status === 'busy').length, cells: map.cells.length };
    });
    assert.equal(drawn.stale, count / 5);
    assert.ok(drawn.busy >= count / 5, `${drawn.busy} busy`);
    assert.ok(drawn.cells >= 20, `${drawn.cells} hot-spot cells`);
    await shot(adminPage, 'ops-map-fleet.png');

    await live.setStatus('fl-3', 'busy', Date.now());
    await adminPage.waitForFunction(() => (window as any).deligoMap.riders.get('fl-3')?.rider.status === 'busy', null, { timeout: 15_000 });
    // Off duty again, so no later order is offered to them.
    for (let from = 0; from < count; from += 500) await Promise.all(fleet.slice(from, from + 500).map((p) => live.setStatus(p.riderId, 'offline', Date.now())));
  });

  it('the tracking page, on a phone: timeline, ETA, a marker that glides after location posts, and the arriving alert', async (t) => {
    const restaurant = await platform.db('restaurants').where('id', 'like', 'rest-seongsu%').orderBy('id').first();
    const item = await platform.db('menu_items').where({ restaurant_id: restaurant.id, available: true }).orderBy('price', 'desc').first();
    const customer = await api.token('customer', 'tc-page');
    const shop = await api.token('restaurant', restaurant.id);
    const rider = await api.token('rider', 'tr-page');
    const dropoff = offset(restaurant, 1_200, 300);
    await put('/v1/riders/me/status', { status: 'available' }, rider);
    await fix(rider, offset(restaurant, 80, 0));
    const placed = await api.post('/v1/orders', { restaurantId: restaurant.id, items: [{ menuItemId: item.id, quantity: Math.ceil(restaurant.min_order / item.price) }], dropoff: { ...dropoff, address: '성동구 서울숲길 1' } }, { token: customer });
    const { id } = await placed.json();
    const move = async (token: string, body: Record<string, unknown>) => assert.equal((await api.post(`/v1/orders/${id}/transitions`, body, { token })).status, 200, JSON.stringify(body));
    await move(shop, { to: 'COOKING', cookMinutes: 10 });
    const offer = await eventually(async () => (await (await api.get('/v1/riders/me/offers', { token: rider })).json()).offers[0], 15_000, 'an offer');
    assert.equal((await api.post(`/v1/offers/${offer.id}/accept`, {}, { token: rider })).status, 200);
    await move(shop, { to: 'READY_FOR_PICKUP' });
    await move(rider, { to: 'PICKED_UP' });
    await move(rider, { to: 'DELIVERING' });
    await fix(rider, offset(restaurant, 300, 80));

    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await page.goto(`${api.url}/track/${id}?token=${customer}`);
    await page.locator('#rider-marker').waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(new URL(page.url()).search, '', 'the token left the address bar');
    await page.waitForFunction(() => (window as any).deligoTrack.status === 'DELIVERING', null, { timeout: 10_000 });
    await page.locator('#timeline li[data-status="DELIVERING"][data-state="current"]', { hasText: '배달중' }).waitFor();
    assert.equal(await page.locator('#timeline li[data-state="done"]').count(), 4);
    await page.locator('#eta').waitFor({ state: 'visible' });
    assert.match(await page.locator('#countdown').innerText(), /^\d+:\d\d$/);
    assert.equal(await page.locator('#arriving').isVisible(), false);

    // Record where the marker is drawn on every animation frame, then send a fix 400 m on.
    // (A string, so the bundler's helpers do not leak into the page.)
    await page.evaluate(`(() => {
      const marker = document.getElementById('rider-marker');
      window.samples = [];
      const sample = () => {
        window.samples.push([Number(marker.dataset.at), Number(marker.dataset.lat), Number(marker.dataset.lng)]);
        requestAnimationFrame(sample);
      };
      requestAnimationFrame(sample);
    })()`);
    const before = await page.evaluate(() => (window as any).deligoTrack.positions);
    const target = offset(restaurant, 700, 200);
    const sent = Date.now();
    await fix(rider, target);
    await page.waitForFunction((n) => (window as any).deligoTrack.positions > n, before, { timeout: 10_000 });
    t.diagnostic(`position reached the page ${(await page.evaluate(() => (window as any).deligoTrack.lastPositionAt)) - sent} ms after it was posted`);
    await page.waitForFunction(([lat, lng]) => {
      const m = document.getElementById('rider-marker')!.dataset;
      return Math.abs(Number(m.lat) - lat!) < 1e-6 && Math.abs(Number(m.lng) - lng!) < 1e-6;
    }, [target.lat, target.lng], { timeout: 10_000 });
    const samples: Array<[number, number, number]> = await page.evaluate(() => (window as any).samples);
    const distinct = samples.filter((s, i) => i === 0 || s[1] !== samples[i - 1]![1] || s[2] !== samples[i - 1]![2]);
    assert.ok(distinct.length >= 3, `the marker was drawn at ${distinct.length} positions on its way`);
    const meters = (a: [number, number, number], b: [number, number, number]) => Math.hypot((b[1] - a[1]) * 111_320, (b[2] - a[2]) * 88_300);
    const total = meters(distinct[0]!, distinct.at(-1)!);
    assert.ok(total > 350, `the marker moved ${total.toFixed(0)} m`);
    // No jump: between two drawn positions (each with the time it was computed for) the marker
    // never moves faster than a glide can (an ease-out cubic peaks at 3× its mean speed, over at
    // least 250 ms: dashboards/public/geo.js). At 60 frames a second that is a fifth of the way
    // per frame; a browser starved of CPU draws fewer frames, and each may then cover more.
    for (const [i, s] of distinct.slice(1).entries()) {
      const step = meters(distinct[i]!, s);
      const allowed = total * Math.min(1, (3 * (s[0] - distinct[i]![0])) / 250) + 1;
      assert.ok(step <= allowed, `no jump: a step of ${step.toFixed(0)} m in ${(s[0] - distinct[i]![0]).toFixed(0)} ms of a ${total.toFixed(0)} m glide`);
    }

    // Within 100 m of the door.
    await fix(rider, offset(dropoff, -60, 0));
    const arriving = page.getByRole('alert');
    await arriving.waitFor({ state: 'visible', timeout: 10_000 });
    assert.match(await arriving.innerText(), /곧 도착/);
    await page.waitForTimeout(1_000);
    await shot(page, 'tracking-page-arriving.png');

    const stranger = await browser.newPage();
    await stranger.goto(`${api.url}/track/${id}?token=${await api.token('customer', 'someone-else')}`);
    await stranger.getByText('볼 수 없어요').waitFor({ timeout: 10_000 });
    await context.close();
  });

  it('Bull Board lists every queue for the admin; a non-admin is refused the board and the map', async () => {
    const board = await adminPage.goto(`${api.url}/admin/queues`);
    assert.equal(board?.status(), 200);
    for (const { label } of queueShards(platform.config.queueShards)) await adminPage.getByText(label, { exact: true }).first().waitFor({ timeout: 15_000 });
    await shot(adminPage, 'bull-board.png');

    const context = await browser.newContext();
    const url = new URL(api.url);
    await context.addCookies([{ name: 'deligo_token', value: await api.token('customer', 'c-nosy'), domain: url.hostname, path: '/', httpOnly: true }]);
    const page = await context.newPage();
    for (const target of ['/admin/map', '/admin/queues']) {
      const res = await page.goto(`${api.url}${target}`);
      assert.equal(res?.status(), 403, target);
      await page.getByText('Admins only').waitFor();
    }
    const stream = await page.evaluate(async () => {
      const res = await fetch('/v1/admin/map/stream');
      return { status: res.status, type: res.headers.get('content-type') };
    });
    assert.deepEqual(stream, { status: 403, type: 'application/problem+json; charset=utf-8' });
    await context.close();
  });

  it('draws map tiles under the ops map when a tile URL is configured', async () => {
    // A stand-in tile server: any z/x/y answers the same 1×1 PNG, and every request is noted.
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
    const requested: string[] = [];
    const tiles = express().get('/tiles/:z/:x/:y.png', (req, res) => {
      requested.push(`${req.params.z}/${req.params.x}/${req.params.y}`);
      res.type('png').send(png);
    });
    const server = tiles.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    platform.releasers.add('tile server', () => new Promise<void>((r) => server.close(() => r())));
    const tileUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tiles/{z}/{x}/{y}.png`;
    const app = createApp({ ...platform, config: { ...platform.config, map: { tileUrl } } });
    const { url } = await listen(app, { port: 0, host: '127.0.0.1', logger: platform.logger, releasers: platform.releasers });
    const context = await browser.newContext({ viewport: { width: 800, height: 600 } });
    await context.addCookies([{ name: 'deligo_token', value: await api.token('admin', 'ops'), url }]);
    const page = await context.newPage();
    await page.goto(`${url}/admin/map`);
    await eventually(() => requested.length >= 4, 15_000, 'tile requests');
    const [z] = requested[0]!.split('/').map(Number);
    assert.ok(z! >= 3 && z! <= 19, `zoom ${z}`);
    await context.close();
  });
});
