import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { unauthorized } from '../api/errors.ts';
import { notFoundHandler, problemHandler } from '../api/middleware/problem.ts';
import { mountRoutes } from '../api/route.ts';
import { restaurantRoutes } from '../api/routes/restaurants.ts';
import { describeSeed, seedCatalogue } from '../cli/commands/seed.ts';
import { getRestaurant, menuItemsByIds, menuOf, upsertCatalogue } from '../db/restaurants-repository.ts';
import { CATEGORIES } from '../domain/catalogue/catalogue.ts';
import { buildCatalogue, GANGNAM_STATION } from '../domain/catalogue/seed-data.ts';
import { haversineMeters } from '../domain/location/geo.ts';
import { isRole } from '../domain/roles.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

describe('development catalogue (pure)', () => {
  it('is the same on every build, with unique ids and sensible won amounts', () => {
    const a = buildCatalogue();
    assert.deepEqual(buildCatalogue(), a);
    assert.ok(a.restaurants.length >= 100, `${a.restaurants.length} restaurants`);
    assert.equal(new Set(a.restaurants.map((r) => r.id)).size, a.restaurants.length);
    assert.equal(new Set(a.items.map((i) => i.id)).size, a.items.length);
    for (const r of a.restaurants) {
      assert.ok(r.minOrder >= 12_000 && r.minOrder <= 18_000, r.id);
      assert.ok(r.deliveryTip >= 1_000 && r.deliveryTip <= 4_000, r.id);
      assert.ok(r.prepMinutes >= 10 && r.prepMinutes <= 30, r.id);
      const menu = a.items.filter((i) => i.restaurantId === r.id);
      assert.ok(menu.length >= 5 && menu.length <= 12, `${r.id} has ${menu.length} items`);
      assert.equal(menu[0]?.available, true, `${r.id}: the first dish is always available`);
    }
    assert.ok(a.items.every((i) => Number.isInteger(i.price) && i.price > 0));
    assert.ok(a.items.some((i) => !i.available), 'some dishes are sold out');
  });
});

describe('restaurants and menus against Postgres', () => {
  let platform: TestPlatform;
  let url: string;
  let close: () => void;
  const catalogue = buildCatalogue();

  before(async () => {
    platform = await createTestPlatform();
    const app = express();
    const api = express.Router();
    // Stands in for JWT auth, which the real app wires: the role comes from a header.
    const authenticate: express.RequestHandler = (req, _res, next) => {
      const role = req.headers['x-test-role'];
      if (!isRole(role)) return next(unauthorized('missing x-test-role'));
      req.user = { sub: `test-${role}`, role };
      next();
    };
    mountRoutes(api, restaurantRoutes({ db: platform.db }), authenticate);
    app.use(api, notFoundHandler, problemHandler);
    const server = app.listen(0);
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  after(async () => {
    close?.();
    await platform?.cleanup();
  });

  const get = async (path: string, role = 'customer') => {
    const res = await fetch(url + path, { headers: { 'x-test-role': role } });
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.json() };
  };
  const counts = async () => {
    const [r] = await platform.db('restaurants').count<{ count: string }[]>('* as count');
    const [i] = await platform.db('menu_items').count<{ count: string }[]>('* as count');
    return { restaurants: Number(r!.count), items: Number(i!.count) };
  };

  it('seeds idempotently: a second run updates in place and adds nothing', async () => {
    const first = await seedCatalogue(platform.db);
    assert.ok(first.nearGangnam >= 40, `${first.nearGangnam} near 강남역`);
    assert.deepEqual(await counts(), { restaurants: first.restaurants, items: first.items });
    assert.match(describeSeed(first), /^seeded 120 restaurants \(\d+ near 강남역\) and \d{1},\d{3} menu items$/);

    // A price changed by hand is put back by the next seed: ON CONFLICT updates, not skips.
    const item = catalogue.items[0]!;
    await upsertCatalogue(platform.db, [], [{ ...item, price: item.price + 1_000 }]);
    assert.equal((await menuOf(platform.db, item.restaurantId))[0]?.price, item.price + 1_000);

    const second = await seedCatalogue(platform.db);
    assert.deepEqual(second, first);
    assert.deepEqual(await counts(), { restaurants: first.restaurants, items: first.items });
    assert.equal((await menuOf(platform.db, item.restaurantId))[0]?.price, item.price);
  });

  it('lists at least 40 restaurants within 1 km of 강남역, nearest first', async () => {
    const { status, body } = await get(`/v1/restaurants?lat=${GANGNAM_STATION.lat}&lng=${GANGNAM_STATION.lng}&radius=1000&limit=200`);
    assert.equal(status, 200);
    const found: { id: string; lat: number; lng: number; distanceMeters: number; minOrder: number }[] = body.restaurants;
    assert.ok(found.length >= 40, `${found.length} within 1 km`);
    for (let i = 1; i < found.length; i++) assert.ok(found[i - 1]!.distanceMeters <= found[i]!.distanceMeters, 'ordered by distance');
    for (const r of found) {
      assert.ok(r.distanceMeters <= 1_000);
      // SQL haversine agrees with the domain's to the metre.
      assert.ok(Math.abs(r.distanceMeters - haversineMeters(r, GANGNAM_STATION)) <= 1, r.id);
      assert.equal(typeof r.minOrder, 'number');
    }
    // Nothing within the radius is missed by the bounding box.
    const expected = catalogue.restaurants.filter((r) => haversineMeters(r, GANGNAM_STATION) <= 1_000).map((r) => r.id);
    assert.deepEqual(found.map((r) => r.id).sort(), expected.sort());
  });

  it('honours limit and the default radius, and finds the other neighbourhoods', async () => {
    const limited = await get(`/v1/restaurants?lat=${GANGNAM_STATION.lat}&lng=${GANGNAM_STATION.lng}&limit=5`);
    assert.equal(limited.body.restaurants.length, 5);
    const hongdae = await get('/v1/restaurants?lat=37.5563&lng=126.9236');
    const near: { id: string; distanceMeters: number }[] = hongdae.body.restaurants;
    assert.ok(near.some((r) => r.id.startsWith('rest-hongdae-')));
    assert.ok(near.every((r) => r.distanceMeters <= 3_000 && !r.id.startsWith('rest-gangnam-')));
    const sea = await get('/v1/restaurants?lat=35.0&lng=129.5');
    assert.deepEqual(sea.body.restaurants, []);
  });

  it('filters by category', async () => {
    const { status, body } = await get(`/v1/restaurants?lat=${GANGNAM_STATION.lat}&lng=${GANGNAM_STATION.lng}&category=chicken&radius=1000`, 'rider');
    assert.equal(status, 200);
    assert.ok(body.restaurants.length > 0);
    assert.ok(body.restaurants.every((r: { category: string }) => r.category === 'chicken'));
    for (const category of CATEGORIES) {
      const some = await get(`/v1/restaurants?lat=${GANGNAM_STATION.lat}&lng=${GANGNAM_STATION.lng}&category=${category}&radius=20000&limit=1`);
      assert.equal(some.body.restaurants.length, 1, `a ${category} restaurant exists`);
    }
  });

  it('returns the whole menu of a known restaurant in display order, sold-out dishes included', async () => {
    const soldOut = catalogue.items.find((i) => !i.available)!;
    const { status, body } = await get(`/v1/restaurants/${soldOut.restaurantId}/menu`, 'restaurant');
    assert.equal(status, 200);
    assert.equal(body.restaurant.id, soldOut.restaurantId);
    const expected = catalogue.items.filter((i) => i.restaurantId === soldOut.restaurantId);
    assert.deepEqual(
      body.items.map((i: { id: string }) => i.id),
      expected.map((i) => i.id),
    );
    assert.equal(body.items.find((i: { id: string }) => i.id === soldOut.id).available, false);
    assert.ok(body.items.every((i: { price: number }) => Number.isInteger(i.price) && i.price > 0));
  });

  it('answers 404 problem+json for an unknown restaurant', async () => {
    assert.equal(await getRestaurant(platform.db, 'rest-nowhere-999'), undefined);
    const { status, type, body } = await get('/v1/restaurants/rest-nowhere-999/menu', 'admin');
    assert.equal(status, 404);
    assert.match(type, /application\/problem\+json/);
    assert.equal(body.detail, 'no restaurant with id rest-nowhere-999');
  });

  it('finds order items only within their own restaurant', async () => {
    const [mine, theirs] = [catalogue.restaurants[0]!.id, catalogue.restaurants[1]!.id];
    const ownIds = catalogue.items.filter((i) => i.restaurantId === mine).slice(0, 2).map((i) => i.id);
    const foreign = catalogue.items.find((i) => i.restaurantId === theirs)!.id;
    const found = await menuItemsByIds(platform.db, mine, [...ownIds, ownIds[0]!, foreign, 'no-such-item']);
    assert.deepEqual(found.map((i) => i.id), ownIds);
    assert.deepEqual(await menuItemsByIds(platform.db, mine, []), []);
  });

  it('names each invalid field in a 400', async () => {
    const bad = await get('/v1/restaurants?lat=91&lng=127.0276&radius=50000&category=tacos&limit=0');
    assert.equal(bad.status, 400);
    assert.match(bad.type, /application\/problem\+json/);
    assert.deepEqual(bad.body.errors.map((e: { path: string }) => e.path).sort(), ['query.category', 'query.lat', 'query.limit', 'query.radius']);
    const radius = bad.body.errors.find((e: { path: string }) => e.path === 'query.radius');
    assert.match(radius.message, /20,000/);

    const missing = await get('/v1/restaurants?lng=127.0276');
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body.errors.map((e: { path: string }) => e.path), ['query.lat']);
    assert.match(missing.body.detail, /^query\.lat: a latitude/);
  });

  it('needs a signed-in caller', async () => {
    const res = await fetch(`${url}/v1/restaurants?lat=37.5&lng=127`);
    assert.equal(res.status, 401);
  });
});
