import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { notify } from '../notifications/notify.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

const TOKEN = 'fcm-token-abcdefghijklmnop:APA91b';

describe('device tokens and the ops notification log', () => {
  let platform: TestPlatform;
  let api: TestApi;
  before(async () => {
    platform = await createTestPlatform();
    api = await startTestApi(platform);
  });
  after(() => platform.cleanup());

  const put = async (body: unknown, role: 'customer' | 'rider' = 'customer', sub = 'c-1') =>
    fetch(`${api.url}/v1/me/devices`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await api.token(role, sub)}` },
      body: JSON.stringify(body),
    });
  const del = async (token: string, sub = 'c-1') =>
    fetch(`${api.url}/v1/me/devices/${encodeURIComponent(token)}`, { method: 'DELETE', headers: { authorization: `Bearer ${await api.token('customer', sub)}` } });

  it('registers a device for the caller, idempotently', async () => {
    assert.equal((await put({ token: TOKEN, platform: 'android' })).status, 200);
    assert.equal((await put({ token: TOKEN, platform: 'android' })).status, 200);
    const rows = await platform.db('device_tokens').where({ user_id: 'c-1' });
    assert.equal(rows.length, 1);
  });

  it('a token re-registered by someone else moves to them (a phone changed hands)', async () => {
    assert.equal((await put({ token: TOKEN, platform: 'ios' }, 'rider', 'r-1')).status, 200);
    assert.equal((await platform.db('device_tokens').where({ token: TOKEN }).first()).user_id, 'r-1');
    assert.equal((await del(TOKEN, 'c-1')).status, 404, 'c-1 no longer owns it');
  });

  it('names the wrong field', async () => {
    const res = await put({ token: 'short', platform: 'blackberry' });
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.deepEqual(body.errors.map((e: { path: string }) => e.path), ['token', 'platform']);
    assert.match(body.errors[1].message, /ios, android or web/);
  });

  it('deletes a device', async () => {
    await put({ token: TOKEN, platform: 'web' }, 'customer', 'c-2');
    assert.equal((await del(TOKEN, 'c-2')).status, 204);
    assert.equal(await platform.db('device_tokens').where({ token: TOKEN }).first(), undefined);
  });

  it('admins list notifications by status, event and recipient; others are refused', async () => {
    await notify(platform, { event: 'order.delivered', recipient: { userId: 'c-5' }, channels: ['push'], data: { orderId: 'o-5' }, idempotencyKey: 'order:o-5:DELIVERED' });
    await notify(platform, { event: 'order.placed', recipient: { userId: 'c-6' }, channels: ['push'], data: { orderId: 'o-6', restaurantName: '분식' }, idempotencyKey: 'order:o-6:PLACED' });
    const admin = await api.token('admin', 'ops');
    const list = async (query: string) => (await (await api.get(`/v1/admin/notifications${query}`, { token: admin })).json()).items;
    assert.equal((await list('?recipient=c-5')).length, 1);
    assert.equal((await list('?recipient=user:c-5'))[0].event, 'order.delivered');
    assert.equal((await list('?event=order.placed&status=queued')).length, 1);
    assert.equal((await list('?status=sent')).length, 0);
    const bad = await api.get('/v1/admin/notifications?event=order.teleported', { token: admin });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).errors[0].path, 'query.event');
    assert.equal((await api.get('/v1/admin/notifications', { token: await api.token('customer') })).status, 403);
  });
});
