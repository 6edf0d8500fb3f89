import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { balance, history } from '../credits/ledger.ts';
import { runPools } from '../workers/run-pools.ts';
import { groupFixture, type GroupFixture } from './support/group-orders.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { createTestPlatform, eventually, type TestPlatform } from './support/services.ts';

describe('group-order expiry', () => {
  let platform: TestPlatform;
  let api: TestApi;
  let f: GroupFixture;
  before(async () => {
    // A short expiry in config instead of 30 minutes; the reconciler's grace likewise.
    platform = await createTestPlatform({ GROUP_ORDER_EXPIRY_MS: '1500', GROUP_ORDER_RECONCILE_GRACE_MS: '200' });
    api = await startTestApi(platform);
    f = await groupFixture(platform);
    await runPools(platform, platform.releasers, ['group-orders', 'orders', 'notifications']);
  });
  after(() => platform.cleanup());

  const create = async (sub: string) =>
    (
      await api.post(
        '/v1/group-orders',
        { restaurantId: f.restaurant.id, mode: 'EACH', items: [{ menuItemId: f.menu[0]!.id, quantity: 1 }], dropoff: f.dropoff },
        { token: await api.token('customer', sub) },
      )
    ).json();
  const listed = async (id: string) => {
    const res = await api.get(`/v1/group-orders?lat=${f.dropoff.lat}&lng=${f.dropoff.lng}`, { token: await api.token('customer', 'browser') });
    return (await res.json()).groupOrders.some((g: { id: string }) => g.id === id);
  };
  /** Once expired: CANCELLED, the hold back, one release, one notification for the creator. */
  const assertExpiredOnce = async (id: string, creator: string) => {
    const row = await platform.db('group_orders').where({ id }).first();
    assert.deepEqual([row.status, row.cancel_reason], ['CANCELLED', 'expired']);
    assert.deepEqual(await balance(platform.db, creator), { available: 50_000, held: 0 });
    assert.deepEqual((await history(platform.db, creator, { limit: 10 })).map((e) => e.kind), ['release', 'hold', 'grant']);
    const deliveries = await eventually(async () => {
      const rows = await platform.db('notification_deliveries').where({ idempotency_key: `group:${id}:expired` });
      return rows.length > 0 && rows.every((r) => r.status === 'sent') ? rows : undefined;
    }, 20_000, 'the expiry notification');
    assert.equal(deliveries.length, 1);
    assert.equal(deliveries[0].event, 'group.expired');
    assert.equal(deliveries[0].recipient_key, `user:${creator}`);
    assert.equal(await listed(id), false);
  };

  it('the delayed job expires an unmatched group, releases the hold and tells the creator, once', async () => {
    const group = await create('c-expire');
    assert.equal(group.status, 'OPEN');
    assert.equal(await listed(group.id), true);
    assert.ok((await balance(platform.db, 'c-expire')).held > 0);
    await eventually(async () => (await platform.db('group_orders').where({ id: group.id }).first()).status === 'CANCELLED', 20_000, 'the expiry');
    await assertExpiredOnce(group.id, 'c-expire');
    const join = await api.post(`/v1/group-orders/${group.id}/join`, { items: f.fullMenu() }, { token: await api.token('customer', 'j-late') });
    assert.equal(join.status, 409);
  });

  it('a matched group whose order the restaurant rejects refunds both parties, once', async () => {
    const group = await create('c-rejected');
    const joined = await (await api.post(`/v1/group-orders/${group.id}/join`, { items: f.fullMenu() }, { token: await api.token('customer', 'j-rejected') })).json();
    assert.equal(joined.status, 'MATCHED');
    const reject = await api.post(`/v1/orders/${joined.order.id}/transitions`, { to: 'REJECTED', reason: '재료 소진' }, { token: await api.token('restaurant', f.restaurant.id) });
    assert.equal(reject.status, 200);
    for (const user of ['c-rejected', 'j-rejected']) {
      await eventually(async () => (await balance(platform.db, user)).available === 50_000, 20_000, `${user}'s refund`);
      assert.deepEqual((await history(platform.db, user, { limit: 10 })).map((e) => e.kind), ['refund', 'capture', 'hold', 'grant']);
    }
    // The relay running again (its scheduler, a retry) refunds nothing twice.
    await platform.queues.get('orders').add('orders.outbox-relay', {});
    await new Promise((r) => setTimeout(r, 1_000));
    assert.deepEqual(await balance(platform.db, 'j-rejected'), { available: 50_000, held: 0 });
  });

  it('the reconciler expires a group whose job Redis lost, and a late job then changes nothing', async () => {
    const group = await create('c-lost');
    const queue = platform.queues.get('groupOrders');
    await (await queue.getJob(group.id))!.remove();
    await new Promise((r) => setTimeout(r, 2_000));
    assert.equal((await platform.db('group_orders').where({ id: group.id }).first()).status, 'OPEN');
    await queue.add('group-orders.reconcile', {});
    await eventually(async () => (await platform.db('group_orders').where({ id: group.id }).first()).status === 'CANCELLED', 20_000, 'the reconciler');
    // The lost job turning up after all (and the reconciler running again) repeats nothing.
    await queue.add('group-orders.expire', { groupOrderId: group.id }, { jobId: `${group.id}-late` });
    await queue.add('group-orders.reconcile', {});
    await eventually(async () => {
      const counts = await queue.getJobCounts('active', 'waiting');
      return (counts.active ?? 0) + (counts.waiting ?? 0) === 0;
    }, 20_000, 'the queue to drain');
    await assertExpiredOnce(group.id, 'c-lost');
  });
});
