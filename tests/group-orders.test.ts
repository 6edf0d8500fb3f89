import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { balance } from '../credits/ledger.ts';
import { splitShares } from '../domain/group-orders/split.ts';
import { expireGroupOrder } from '../group-orders/close.ts';
import { joinGroupOrder } from '../group-orders/join.ts';
import { groupDeps, groupFixture, metersNorth, type GroupFixture } from './support/group-orders.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

describe('group orders', () => {
  let platform: TestPlatform;
  let api: TestApi;
  let f: GroupFixture;
  before(async () => {
    platform = await createTestPlatform();
    api = await startTestApi(platform);
    f = await groupFixture(platform);
  });
  after(() => platform.cleanup());

  const as = async (sub: string) => ({ token: await api.token('customer', sub) });
  const create = async (sub: string, body: Record<string, unknown>) =>
    api.post('/v1/group-orders', { restaurantId: f.restaurant.id, mode: 'EACH', items: [{ menuItemId: f.menu[0]!.id, quantity: 1 }], dropoff: f.dropoff, ...body }, await as(sub));
  const join = async (sub: string, id: string, body: Record<string, unknown> = { items: f.fullMenu() }) => api.post(`/v1/group-orders/${id}/join`, body, await as(sub));
  const credits = (sub: string) => balance(platform.db, sub);
  /** What the customer sees (the first look opens the account with its welcome credits). */
  const wallet = async (sub: string) => (await api.get('/v1/me/credits', await as(sub))).json();
  const untouched = async (sub: string) => {
    const w = await wallet(sub);
    assert.deepEqual([w.available, w.held, w.history.map((e: { kind: string }) => e.kind)], [50_000, 0, ['grant']], `${sub} moved no money`);
  };

  it('EACH: the creator’s share is held, a join captures both shares and places one real order', async () => {
    const created = await create('c-each', {});
    assert.equal(created.status, 201);
    const group = await created.json();
    const tip = f.restaurant.delivery_tip;
    assert.equal(group.status, 'OPEN');
    assert.equal(group.shares.creator, f.menu[0]!.price + Math.ceil(tip / 2));
    assert.deepEqual(await credits('c-each'), { available: 50_000 - group.shares.creator, held: group.shares.creator });
    const mine = await (await api.get('/v1/me/credits', await as('c-each'))).json();
    assert.equal(mine.held, group.shares.creator);

    const joined = await join('j-each', group.id);
    assert.equal(joined.status, 200);
    const matched = await joined.json();
    assert.equal(matched.status, 'MATCHED');
    const joinerMenu = f.fullMenu()[0]!.quantity * f.menu[0]!.price;
    assert.deepEqual(matched.shares, { creator: group.shares.creator, joiner: joinerMenu + Math.floor(tip / 2) });

    const order = await platform.db('orders').where({ id: matched.order.id }).first();
    assert.equal(order.status, 'PLACED');
    assert.equal(order.customer_id, 'c-each');
    assert.equal(order.total, matched.shares.creator + matched.shares.joiner, 'the shares add up to exactly what the order costs');
    const lines = await platform.db('order_items').where({ order_id: order.id });
    assert.deepEqual(lines.map((l) => [l.menu_item_id, l.quantity]), [[f.menu[0]!.id, 1 + f.fullMenu()[0]!.quantity]], 'the same dish is one line');
    assert.deepEqual(await credits('c-each'), { available: 50_000 - matched.shares.creator, held: 0 });
    assert.deepEqual(await credits('j-each'), { available: 50_000 - matched.shares.joiner, held: 0 });
    const outbox = await platform.db('outbox').where({ topic: 'notify' });
    assert.deepEqual(outbox.map((m) => m.payload.recipient.userId).sort(), ['c-each', 'j-each']);
    assert.ok(outbox.every((m) => m.payload.event === 'group.matched'));

    const listed = await (await api.get(`/v1/group-orders?lat=${f.dropoff.lat}&lng=${f.dropoff.lng}`, await as('j-other'))).json();
    assert.ok(!listed.groupOrders.some((g: { id: string }) => g.id === group.id), 'a matched group is no longer listed');
    const mineList = await (await api.get('/v1/me/group-orders', await as('j-each'))).json();
    assert.deepEqual(mineList.groupOrders.map((g: { id: string; role: string }) => [g.id, g.role]), [[group.id, 'joiner']]);
    assert.equal((await api.post(`/v1/group-orders/${group.id}/cancel`, {}, await as('c-each'))).status, 409, 'cancel after a match');
  });

  it('SPLIT: one shared menu, each pays half of menu + tip, and the odd won goes to the creator', async () => {
    // An odd price makes menu + tip odd, whatever the tip.
    const odd = f.menu[1]!;
    await platform.db('menu_items').where({ id: odd.id }).update({ price: 12_345 });
    const quantity = Math.ceil(f.restaurant.min_order / 12_345);
    const body = { mode: 'SPLIT', items: [{ menuItemId: odd.id, quantity }] };
    const total = 12_345 * quantity + f.restaurant.delivery_tip;
    const pair = total % 2 === 1 ? body : { ...body, items: [{ menuItemId: odd.id, quantity: quantity + 1 }] };
    const group = await (await create('c-split', pair)).json();
    const joined = await join('j-split', group.id, {});
    assert.equal(joined.status, 200);
    const matched = await joined.json();
    const order = await platform.db('orders').where({ id: matched.order.id }).first();
    assert.equal(order.total % 2, 1);
    assert.equal(matched.shares.creator, (order.total + 1) / 2);
    assert.equal(matched.shares.joiner, (order.total - 1) / 2);
    assert.deepEqual(splitShares({ mode: 'SPLIT', creatorMenu: order.subtotal, joinerMenu: 0, deliveryTip: order.delivery_tip }), { creator: matched.shares.creator, joiner: matched.shares.joiner, total: order.total });
    assert.equal((await join('j-split2', group.id, {})).status, 409);
    await platform.db('menu_items').where({ id: odd.id }).update({ price: odd.price });
  });

  it('refuses bad input with a 400 naming the field, and holds nothing', async () => {
    const cases: Array<[Record<string, unknown>, string, number]> = [
      [{ items: [{ menuItemId: 'no-such-dish', quantity: 1 }] }, 'items.0.menuItemId', 400],
      [{ items: [{ menuItemId: f.foreign.id, quantity: 1 }] }, 'items.0.menuItemId', 400],
      [{ items: [{ menuItemId: f.menu[0]!.id, quantity: 0 }] }, 'items.0.quantity', 400],
      [{ items: [] }, 'items', 400],
      [{ mode: 'HALF' }, 'mode', 400],
      [{ restaurantId: 'rest-nowhere' }, 'restaurantId', 400],
      [{ mode: 'SPLIT', items: [{ menuItemId: f.menu.at(-1)!.id, quantity: 1 }] }, 'items', 400],
      [{ dropoff: { ...f.dropoff, lat: f.dropoff.lat + 0.5 } }, 'dropoff', 400],
      [{ items: [{ menuItemId: f.menu[0]!.id, quantity: 50 }] }, 'items', 409],
    ];
    for (const [body, path, status] of cases) {
      const res = await create('c-bad', body);
      assert.equal(res.status, status, JSON.stringify(body));
      const problem = await res.json();
      assert.equal(problem.errors[0].path, path, JSON.stringify(problem));
    }
    const poor = await (await create('c-bad', { items: [{ menuItemId: f.menu[0]!.id, quantity: 50 }] })).json();
    assert.match(poor.detail, /not enough credits/);
    assert.equal(await platform.db('group_orders').where({ creator_id: 'c-bad' }).count('* as n').then((r) => Number(r[0]!.n)), 0);
    await untouched('c-bad');

    const group = await (await create('c-bad-join', {})).json();
    const badJoins: Array<[Record<string, unknown>, string, number]> = [
      [{ items: [{ menuItemId: f.foreign.id, quantity: 1 }] }, 'items.0.menuItemId', 400],
      [{ items: [{ menuItemId: f.menu[0]!.id, quantity: 0 }] }, 'items.0.quantity', 400],
      [{}, 'items', 400],
      [{ items: [{ menuItemId: f.menu[0]!.id, quantity: 50 }] }, 'items', 409],
    ];
    for (const [body, path, status] of badJoins) {
      const res = await join('j-bad', group.id, body);
      assert.equal(res.status, status, JSON.stringify(body));
      assert.equal((await res.json()).errors[0].path, path);
    }
    await untouched('j-bad');
    assert.equal((await platform.db('group_orders').where({ id: group.id }).first()).status, 'OPEN');
  });

  it('two joins at once: one wins, the other gets 409 and no money moves', async () => {
    for (let round = 0; round < 3; round++) {
      const group = await (await create(`c-race-${round}`, {})).json();
      const [a, b] = await Promise.all([join(`j-a-${round}`, group.id), join(`j-b-${round}`, group.id)]);
      assert.deepEqual([a.status, b.status].sort(), [200, 409]);
      const loser = a.status === 409 ? `j-a-${round}` : `j-b-${round}`;
      const winner = a.status === 200 ? `j-a-${round}` : `j-b-${round}`;
      await untouched(loser);
      const row = await platform.db('group_orders').where({ id: group.id }).first();
      assert.equal(row.joiner_id, winner);
      assert.equal(await platform.db('orders').where({ idempotency_key: `group:${group.id}` }).count('* as n').then((r) => Number(r[0]!.n)), 1);
    }
  });

  it('cancel: only the creator, only while open; the hold goes back', async () => {
    const group = await (await create('c-cancel', {})).json();
    assert.equal((await api.post(`/v1/group-orders/${group.id}/cancel`, {}, await as('someone-else'))).status, 403);
    const cancelled = await api.post(`/v1/group-orders/${group.id}/cancel`, {}, await as('c-cancel'));
    assert.equal(cancelled.status, 200);
    assert.deepEqual(await cancelled.json().then((g) => [g.status, g.cancelReason]), ['CANCELLED', 'creator']);
    assert.deepEqual(await credits('c-cancel'), { available: 50_000, held: 0 });
    assert.equal((await api.post(`/v1/group-orders/${group.id}/cancel`, {}, await as('c-cancel'))).status, 409);
    assert.equal((await join('j-late', group.id)).status, 409);
    assert.equal((await api.post('/v1/group-orders/grp_missing/cancel', {}, await as('c-cancel'))).status, 404);
    assert.equal(await platform.queues.get('groupOrders').getJob(group.id), undefined, 'the expiry job is dropped');
  });

  it('a join racing the expiry has exactly one outcome, and the money matches it', async () => {
    const deps = groupDeps(platform);
    const outcomes = new Set<string>();
    for (let round = 0; round < 8; round++) {
      const creator = `c-exp-${round}`;
      const joiner = `j-exp-${round}`;
      const group = await (await create(creator, {})).json();
      // Due in a few ms: the join and the expiry arrive together.
      await platform.db('group_orders').where({ id: group.id }).update({ expires_at: new Date(Date.now() + (round % 4) * 5) });
      await new Promise((r) => setTimeout(r, (round % 4) * 5));
      const [joined, expired] = await Promise.all([
        joinGroupOrder(deps, { groupOrderId: group.id, joinerId: joiner, items: f.fullMenu() }),
        expireGroupOrder(deps, { groupOrderId: group.id }),
      ]);
      const row = await platform.db('group_orders').where({ id: group.id }).first();
      outcomes.add(row.status);
      if (row.status === 'MATCHED') {
        assert.equal(joined.kind, 'matched');
        assert.notEqual(expired.kind, 'expired');
        const order = await platform.db('orders').where({ id: row.order_id }).first();
        assert.equal(row.creator_share + row.joiner_share, order.total);
        assert.deepEqual(await credits(creator), { available: 50_000 - row.creator_share, held: 0 });
        assert.deepEqual(await credits(joiner), { available: 50_000 - row.joiner_share, held: 0 });
      } else {
        // Not due yet when the expiry looked, and the join lost nothing: run the expiry again.
        if (expired.kind === 'not-due') await expireGroupOrder(deps, { groupOrderId: group.id });
        assert.equal(joined.kind, 'conflict');
        const closed = await platform.db('group_orders').where({ id: group.id }).first();
        assert.deepEqual([closed.status, closed.cancel_reason], ['CANCELLED', 'expired']);
        assert.deepEqual(await credits(creator), { available: 50_000, held: 0 });
        assert.deepEqual(await credits(joiner), { available: 0, held: 0 }, 'the joiner was never touched');
      }
    }
    assert.ok(outcomes.size >= 1);
  });

  it('lists open groups within 300 m, nearest first: 299 m is listed, 301 m is not', async () => {
    const at = { lat: 37.2, lng: 127.2 }; // far from every other test's groups
    const around = (meters: number) => ({ ...f.dropoff, lat: at.lat + metersNorth(meters), lng: at.lng });
    // The restaurant must be within 10 km of the drop-off; move it next to this spot for the test.
    await platform.db('restaurants').where({ id: f.restaurant.id }).update({ lat: at.lat, lng: at.lng });
    try {
      const ids: Record<number, string> = {};
      for (const m of [301, 299, 120, 10]) ids[m] = (await (await create(`c-near-${m}`, { dropoff: around(m) })).json()).id;
      const res = await api.get(`/v1/group-orders?lat=${at.lat}&lng=${at.lng}`, await as('browser'));
      assert.equal(res.status, 200);
      const listed = (await res.json()).groupOrders;
      assert.deepEqual(listed.map((g: { id: string }) => g.id), [ids[10], ids[120], ids[299]]);
      assert.deepEqual(listed.map((g: { distanceMeters: number }) => g.distanceMeters), [10, 120, 299]);
      const other = f.restaurant.category === 'pizza' ? 'chicken' : 'pizza';
      assert.deepEqual((await (await api.get(`/v1/group-orders?lat=${at.lat}&lng=${at.lng}&category=${other}`, await as('browser'))).json()).groupOrders, []);
      const same = await (await api.get(`/v1/group-orders?lat=${at.lat}&lng=${at.lng}&category=${f.restaurant.category}`, await as('browser'))).json();
      assert.equal(same.groupOrders.length, 3);
      const bad = await api.get(`/v1/group-orders?lat=abc&lng=${at.lng}`, await as('browser'));
      assert.equal(bad.status, 400);
      assert.equal((await bad.json()).errors[0].path, 'query.lat');
    } finally {
      await platform.db('restaurants').where({ id: f.restaurant.id }).update({ lat: f.restaurant.lat, lng: f.restaurant.lng });
    }
  });
});
