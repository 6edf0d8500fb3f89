import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { seedCatalogue } from '../cli/commands/seed.ts';
import { createOpenGroupIndex } from '../group-orders/open-index.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

/**
 * The nearby group list and order placement taken ahead of Express (api/fast-lane.ts) answer as
 * the routes do; orders placed at once share one statement (group commit) and keep their
 * Idempotency-Key promises.
 */
describe('the fast lane for the nearby list and for orders', () => {
  let platform: TestPlatform;
  let api: TestApi;
  let customer: string;
  let restaurant: { id: string; lat: number; lng: number; min_order: number };
  let menu: Array<{ id: string; price: number }>;
  const at = { lat: 37.31, lng: 127.31 };
  before(async () => {
    platform = await createTestPlatform();
    api = await startTestApi(platform);
    await seedCatalogue(platform.db);
    restaurant = await platform.db('restaurants').where({ open: true }).orderBy('id').first();
    menu = await platform.db('menu_items').where({ restaurant_id: restaurant.id, available: true }).orderBy('price', 'desc');
    customer = await api.token('customer', 'fl2-customer');
    // The first request of a token goes through Express (verified, user recorded); later ones may take the lane.
    assert.equal((await api.get('/v1/me', { token: customer })).status, 200);
    const index = createOpenGroupIndex(platform.redis, platform.config.queuePrefix);
    for (let i = 0; i < 5; i++) {
      await index.add({ id: `grp_fl${i}`, restaurantId: 'r', restaurantName: '교촌치킨', category: 'chicken', mode: 'EACH', deliveryTip: 3_000, menuTotal: 18_000, address: '서울', lat: at.lat + i * 0.0002, lng: at.lng, expiresAt: Date.now() + 600_000 });
    }
  });
  after(() => platform.cleanup());

  const list = (query: string, headers: Record<string, string> = {}, token = customer) => api.get(`/v1/group-orders?${query}`, { token, headers });
  /** node:http, not fetch: fetch turns a conditional request into `Cache-Control: no-cache`, which is never answered 304. */
  const conditionalList = (query: string, headers: Record<string, string>) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
      http.get(`${api.url}/v1/group-orders?${query}`, { headers: { authorization: `Bearer ${customer}`, ...headers } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      }).on('error', reject);
    });

  it('lists with the ETag, request id and metric Express gives; a conditional GET still gets its 304', async () => {
    const res = await list(`lat=${at.lat}&lng=${at.lng}`, { 'x-request-id': 'fl2-list-1' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-request-id'), 'fl2-list-1');
    assert.match(res.headers.get('content-type') ?? '', /^application\/json; charset=utf-8/);
    const body = await res.json();
    assert.deepEqual(body.groupOrders.map((g: { id: string }) => g.id), ['grp_fl0', 'grp_fl1', 'grp_fl2', 'grp_fl3', 'grp_fl4']);
    const etag = res.headers.get('etag');
    assert.match(etag ?? '', /^W\/"[0-9a-f]+-.{27}"$/);
    // Through Express (a conditional GET): the same ETag for the same answer, and 304 when it matches.
    const conditional = await conditionalList(`lat=${at.lat}&lng=${at.lng}`, { 'if-none-match': etag! });
    assert.equal(conditional.status, 304);
    const changed = await conditionalList(`lat=${at.lat}&lng=${at.lng}`, { 'if-none-match': 'W/"0-x"' });
    assert.equal(changed.status, 200);
    assert.equal(changed.headers.etag, etag);
    assert.equal((await list(`lat=${at.lat}&lng=${at.lng}&limit=2&category=chicken`).then((r) => r.json())).groupOrders.length, 2);
    const metrics = await (await api.get('/metrics')).text();
    assert.match(metrics, /deligo_http_request_duration_seconds_count\{method="GET",route="\/v1\/group-orders",status="200"\} [1-9]/);
  });

  it('leaves a doubtful query to the schema, which names the field; no token is still 401', async () => {
    const bad = await list(`lat=91&lng=${at.lng}`);
    assert.equal(bad.status, 400);
    assert.match(bad.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal((await bad.json()).errors[0].path, 'query.lat');
    const limit = await list(`lat=${at.lat}&lng=${at.lng}&limit=0`);
    assert.equal((await limit.json()).errors[0].path, 'query.limit');
    assert.equal((await api.get(`/v1/group-orders?lat=${at.lat}&lng=${at.lng}`)).status, 401);
  });

  const dropoff = () => ({ lat: restaurant.lat + 0.005, lng: restaurant.lng, address: '서울 강남구 테헤란로 123' });
  const items = (extra = 0) => [{ menuItemId: menu[0]!.id, quantity: Math.ceil(restaurant.min_order / menu[0]!.price) + extra }];
  const place = (body: unknown, key?: string, token = customer) => api.post('/v1/orders', body, { token, headers: key ? { 'idempotency-key': key } : {} });

  it('places many orders at once, each whole: its items, first event and outbox message', async () => {
    const tokens = await Promise.all(Array.from({ length: 30 }, (_, i) => api.token('customer', `fl2-many-${i}`)));
    // Known customers, so their orders may take the lane.
    await Promise.all(tokens.map((token) => api.get('/v1/me', { token })));
    const answers = await Promise.all(tokens.map((token, i) => place({ restaurantId: restaurant.id, items: items(i % 3), dropoff: dropoff() }, `many-${i}`, token)));
    assert.deepEqual(answers.map((r) => r.status), tokens.map(() => 201));
    const ids = await Promise.all(answers.map(async (r) => (await r.json()).id as string));
    assert.equal(new Set(ids).size, 30);
    for (const [i, id] of ids.entries()) {
      const order = await platform.db('orders').where({ id }).first();
      assert.equal(order.customer_id, `fl2-many-${i}`);
      assert.equal(order.idempotency_key, `many-${i}`);
      assert.deepEqual(await platform.db('order_items').where({ order_id: id }).select('menu_item_id', 'quantity'), [{ menu_item_id: menu[0]!.id, quantity: items(i % 3)[0]!.quantity }]);
      assert.equal((await platform.db('order_events').where({ order_id: id, version: 1, to_status: 'PLACED' })).length, 1);
      assert.equal((await platform.db('outbox').whereRaw(`payload->>'orderId' = ?`, [id])).length, 1);
    }
  });

  it('one Idempotency-Key sent many times at once makes one order; the same key with another order is 422', async () => {
    const body = { restaurantId: restaurant.id, items: items(), dropoff: dropoff() };
    const answers = await Promise.all(Array.from({ length: 12 }, () => place(body, 'fl2-retry')));
    const statuses = answers.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, 1, `exactly one creates: ${statuses}`);
    assert.ok(statuses.every((s) => s === 201 || s === 200), `the rest replay it: ${statuses}`);
    const ids = new Set(await Promise.all(answers.map(async (r) => (await r.json()).id as string)));
    assert.equal(ids.size, 1);
    assert.equal(Number((await platform.db('orders').where({ customer_id: 'fl2-customer', idempotency_key: 'fl2-retry' }).count('* as n'))[0]!.n), 1);
    const mixed = await Promise.all([place({ ...body, items: items(1) }, 'fl2-retry'), place(body, 'fl2-retry')]);
    assert.deepEqual(mixed.map((r) => r.status), [422, 200]);
    assert.equal(Number((await platform.db('outbox').whereRaw(`payload->>'orderId' = ?`, [[...ids][0]!]).count('* as n'))[0]!.n), 1);
  });

  it('still names a wrong field of an order, and refuses a bad Idempotency-Key', async () => {
    const bad = await place({ restaurantId: restaurant.id, items: [{ menuItemId: menu[0]!.id, quantity: 0 }], dropoff: dropoff() });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).errors[0].path, 'items.0.quantity');
    const key = await place({ restaurantId: restaurant.id, items: items(), dropoff: dropoff() }, 'has spaces');
    assert.equal(key.status, 400);
    assert.equal((await key.json()).errors[0].path, 'headers.idempotency-key');
  });
});
