import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApi, type TestApi } from './support/http.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

describe('API edges: bad input gets a clear problem+json', () => {
  let platform: TestPlatform;
  let api: TestApi;
  before(async () => {
    platform = await createTestPlatform({ BODY_LIMIT: '1kb' });
    api = await startTestApi(platform);
  });
  after(() => platform.cleanup());

  async function problem(res: Response, status: number) {
    assert.equal(res.status, status);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const body = await res.json();
    assert.equal(body.status, status);
    assert.equal(typeof body.title, 'string');
    assert.equal(typeof body.detail, 'string');
    assert.ok(!JSON.stringify(body).includes('    at '), 'no stack trace');
    return body;
  }

  it('malformed JSON is 400 and says so', async () => {
    const body = await problem(await api.post('/v1/me', '{"points": [', { token: await api.token('rider') }), 400);
    assert.equal(body.detail, 'request body is not valid JSON');
  });

  it('an oversized body is 413', async () => {
    const body = await problem(await api.post('/v1/me', { blob: 'x'.repeat(4_000) }), 413);
    assert.match(body.detail, /larger than the 1024 byte limit/);
  });

  it('an unknown route is 404', async () => {
    const body = await problem(await api.get('/v1/nowhere'), 404);
    assert.equal(body.detail, 'no route for GET /v1/nowhere');
  });

  it('every response carries a request id, and a sane incoming one is kept', async () => {
    const res = await api.get('/healthz', { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(res.headers.get('x-request-id'), 'abc-123');
    assert.match((await api.get('/healthz')).headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('users are created on first use, and a token may not change their role', async () => {
    const first = await api.get('/v1/me', { token: await api.token('rider', 'r-77') });
    assert.deepEqual(await first.json(), { id: 'r-77', role: 'rider' });
    const row = await platform.db('users').where({ id: 'r-77' }).first();
    assert.equal(row.role, 'rider');
    const body = await problem(await api.get('/v1/me', { token: await api.token('admin', 'r-77') }), 403);
    assert.match(body.detail, /registered as rider, not admin/);
  });

  it('health, readiness and metrics answer', async () => {
    assert.deepEqual(await (await api.get('/healthz')).json(), { status: 'ok' });
    const ready = await api.get('/readyz');
    assert.equal(ready.status, 200);
    assert.equal((await ready.json()).checks.redis.ok, true);
    await api.get('/v1/me');
    const metrics = await (await api.get('/metrics')).text();
    assert.match(metrics, /deligo_http_request_duration_seconds_bucket\{.*route="\/v1\/me".*status="401"/);
    assert.match(metrics, /deligo_queue_jobs\{queue="location",state="waiting"\} 0/);
    assert.match(metrics, /deligo_queue_jobs\{queue="notifications-push",state="failed"\} 0/);
  });
});
