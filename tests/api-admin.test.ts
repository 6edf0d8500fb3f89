import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { queueShards } from '../runtime/queue-registry.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

describe('admin routes: who may see Bull Board', () => {
  let platform: TestPlatform;
  let api: TestApi;
  before(async () => {
    platform = await createTestPlatform({ LOCATION_QUEUE_SHARDS: '4' });
    api = await startTestApi(platform);
  });
  after(() => platform.cleanup());

  for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
    it(`${path}: no token is 401 problem+json`, async () => {
      const res = await api.get(path);
      assert.equal(res.status, 401);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.match((await res.json()).detail, /missing bearer token/);
    });

    for (const role of ['customer', 'rider', 'restaurant'] as const) {
      it(`${path}: a ${role} token is 403`, async () => {
        const res = await api.get(path, { token: await api.token(role) });
        assert.equal(res.status, 403);
        assert.match((await res.json()).detail, /needs role admin; the token has role/);
      });
    }

    it(`${path}: an admin token is 200`, async () => {
      const res = await api.get(path, { token: await api.token('admin', 'ops') });
      assert.equal(res.status, 200);
    });
  }

  it('Bull Board lists every registered queue', async () => {
    const res = await api.get('/admin/queues/api/queues', { token: await api.token('admin', 'ops') });
    const body = (await res.json()) as { queues: Array<{ name: string }> };
    const expected = queueShards(platform.config.queueShards);
    assert.equal(body.queues.length, expected.length);
    assert.equal(expected.filter((q) => q.id === 'location').length, 4, 'each location shard is its own queue');
    assert.ok(body.queues.every((q) => /^\{[a-z0-9-]+\}$/.test(q.name)), 'queue names carry a cluster hash tag');
  });

  it('a forged or expired token is 401', async () => {
    const forged = (await api.token('admin', 'ops')).slice(0, -3) + 'abc';
    assert.equal((await api.get('/admin/queues', { token: forged })).status, 401);
    assert.equal((await api.get('/admin/queues', { token: 'not-a-jwt' })).status, 401);
  });

  it('a browser without a token gets a 401 page that links to the sign-in', async () => {
    const res = await api.get('/admin/queues', { headers: { accept: 'text/html' } });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await res.text(), /href="\/admin\/login\?next=%2Fadmin%2Fqueues"/);
  });

  it('sign-in sets an HttpOnly cookie that opens Bull Board in a browser', async () => {
    const token = await api.token('admin', 'ops');
    const login = await fetch(`${api.url}/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, next: '/admin/queues' }),
      redirect: 'manual',
    });
    assert.equal(login.status, 303);
    assert.equal(login.headers.get('location'), '/admin/queues');
    const cookie = login.headers.get('set-cookie') ?? '';
    assert.match(cookie, /deligo_token=/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const board = await api.get('/admin/queues', { headers: { cookie: cookie.split(';')[0]!, accept: 'text/html' } });
    assert.equal(board.status, 200);
    assert.match(await board.text(), /deligo queues|<div id="root"/);
  });

  it('sign-in refuses a non-admin token and an open redirect', async () => {
    const form = (token: string, next: string) =>
      fetch(`${api.url}/admin/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, next }),
        redirect: 'manual',
      });
    const refused = await form(await api.token('customer'), '/admin/queues');
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get('set-cookie'), null);
    const offsite = await form(await api.token('admin', 'ops'), 'https://evil.example/');
    assert.equal(offsite.headers.get('location'), '/admin/queues');
  });
});
