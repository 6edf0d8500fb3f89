import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedCatalogue } from '../cli/commands/seed.ts';
import { createOrderPlacer, type PlaceOrderInput, type PlaceOrderResult } from '../orders/place-order.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

/**
 * Orders placed at once share a statement (runtime/group-commit.ts). Retries with one
 * Idempotency-Key may then land in the same batch or in different batches in flight together;
 * either way exactly one order is written and every retry is answered with it.
 */
describe('orders placed in concurrent groups', () => {
  let platform: TestPlatform;
  let api: TestApi;
  let restaurant: { id: string; lat: number; lng: number; min_order: number };
  let item: { id: string; price: number };
  before(async () => {
    platform = await createTestPlatform();
    api = await startTestApi(platform);
    await seedCatalogue(platform.db);
    restaurant = await platform.db('restaurants').where({ open: true }).orderBy('id').first();
    item = await platform.db('menu_items').where({ restaurant_id: restaurant.id, available: true }).orderBy('price', 'desc').first();
  });
  after(() => platform.cleanup());

  const order = (customerId: string, key: string | undefined, extra = 0): PlaceOrderInput => ({
    customerId,
    restaurantId: restaurant.id,
    items: [{ menuItemId: item.id, quantity: Math.ceil(restaurant.min_order / item.price) + extra }],
    dropoff: { lat: restaurant.lat + 0.005, lng: restaurant.lng, address: '서울 강남구 테헤란로 123' },
    idempotencyKey: key,
  });
  const orderId = (r: PlaceOrderResult) => (r.kind === 'created' || r.kind === 'replayed' ? r.order.id : r.kind === 'key-reused' ? r.orderId : undefined);

  it('one key retried across batches in flight together: one order, every retry answered with it', async () => {
    // Small batches and several in flight, so the retries spread over different statements.
    const place = createOrderPlacer(platform.db, undefined, { maxSize: 3, maxInFlight: 4 });
    for (let round = 0; round < 3; round++) {
      const key = `retry-${round}`;
      const calls = Array.from({ length: 24 }, (_, i) =>
        // Other customers' orders between the retries fill the batches; a few retries carry a
        // different basket under the same key.
        i % 2 === 1 ? place(order(`other-${round}-${i}`, `k-${i}`)) : place(order('c-retry', key, i % 6 === 4 ? 1 : 0)),
      );
      const results = await Promise.all(calls);
      const retries = results.filter((_, i) => i % 2 === 0);
      const rows = await platform.db('orders').where({ customer_id: 'c-retry', idempotency_key: key });
      assert.equal(rows.length, 1, 'exactly one order for the key');
      const winner = rows[0]!.id;
      assert.equal(retries.filter((r) => r.kind === 'created').length, 1, JSON.stringify(retries.map((r) => r.kind)));
      for (const r of retries) {
        assert.ok(['created', 'replayed', 'key-reused'].includes(r.kind), r.kind);
        assert.equal(orderId(r), winner, 'every retry names the one order');
      }
      // The winner's basket decides: retries with the same basket replay it, a different basket is refused.
      const winnerIndex = retries.findIndex((r) => r.kind === 'created');
      const winnerExtra = winnerIndex % 3 === 2 ? 1 : 0;
      retries.forEach((r, j) => {
        const extra = j % 3 === 2 ? 1 : 0;
        if (j !== winnerIndex) assert.equal(r.kind, extra === winnerExtra ? 'replayed' : 'key-reused');
      });
      assert.ok(results.filter((_, i) => i % 2 === 1).every((r) => r.kind === 'created'), 'the other customers each got their order');
    }
    const events = await platform.db('order_events').whereIn('order_id', platform.db('orders').select('id').where({ customer_id: 'c-retry' }));
    assert.equal(events.length, 3, 'one first event per order, none for the retries');
  });

  it('over HTTP: concurrent retries with one key get one 201 and 200s with the same order', async () => {
    const token = await api.token('customer', 'c-http');
    const body = { restaurantId: restaurant.id, items: order('c-http', undefined).items, dropoff: order('c-http', undefined).dropoff };
    const answers = await Promise.all(Array.from({ length: 20 }, () => api.post('/v1/orders', body, { token, headers: { 'idempotency-key': 'checkout-http' } })));
    const statuses = answers.map((a) => a.status);
    assert.equal(statuses.filter((s) => s === 201).length, 1, JSON.stringify(statuses));
    assert.ok(statuses.every((s) => s === 201 || s === 200), JSON.stringify(statuses));
    const ids = new Set(await Promise.all(answers.map(async (a) => (await a.json()).id)));
    assert.equal(ids.size, 1);
    assert.equal(await platform.db('orders').where({ customer_id: 'c-http' }).count('* as n').then((r) => Number(r[0]!.n)), 1);
  });
});
