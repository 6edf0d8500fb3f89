import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApi, type TestApi } from './support/http.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

/** The rider's fix taken ahead of Express (api/fast-lane.ts) answers exactly as the route does. */
describe('the fast lane for a rider’s fixes', () => {
  let platform: TestPlatform;
  let api: TestApi;
  let rider: string;
  before(async () => {
    platform = await createTestPlatform();
    api = await startTestApi(platform);
    rider = await api.token('rider', 'fl-rider');
    // The first request of a token goes through Express (verified, user recorded); later ones may take the lane.
    assert.equal((await fix(rider)).status, 202);
  });
  after(() => platform.cleanup());

  const point = () => ({ lat: 37.4979, lng: 127.0276, recordedAt: new Date().toISOString(), speed: 3 });
  const fix = (token: string, body: unknown = { points: [point()] }, headers: Record<string, string> = {}) => api.post('/v1/riders/me/locations', body, { token, headers });

  it('acknowledges a known rider’s fix with 202, a request id and the latency metric', async () => {
    const before = await platform.queues.get('location').getWaitingCount();
    const res = await fix(rider, { points: [point(), point()] }, { 'x-request-id': 'fl-req-1' });
    assert.equal(res.status, 202);
    assert.equal(res.headers.get('x-request-id'), 'fl-req-1');
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await res.json(), { accepted: 2 });
    assert.ok((await fix(rider)).headers.get('x-request-id'), 'a request id is made when none is sent');
    assert.ok((await platform.queues.get('location').getWaitingCount()) > before, 'the points were committed');
    const metrics = await (await api.get('/metrics')).text();
    assert.match(metrics, /deligo_http_request_duration_seconds_count\{method="POST",route="\/v1\/riders\/me\/locations",status="202"\} [1-9]/);
  });

  it('hands everything it is unsure of to the app, which names the wrong field', async () => {
    const bad = await fix(rider, { points: [{ ...point(), lat: 91 }] });
    assert.equal(bad.status, 400);
    assert.match(bad.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.ok((await bad.json()).errors.some((e: { path: string }) => e.path === 'points.0.lat'));

    const notJson = await fix(rider, '{"points": [');
    assert.equal(notJson.status, 400);
    assert.equal((await notJson.json()).detail, 'request body is not valid JSON');

    // A known token of the wrong role is refused by the app, as before.
    const customer = await api.token('customer', 'fl-customer');
    await api.get('/v1/me/credits', { token: customer });
    assert.equal((await fix(customer)).status, 403);
    // No token, or one never seen: the app's own checks.
    assert.equal((await api.post('/v1/riders/me/locations', { points: [point()] })).status, 401);
    const fresh = await api.token('rider', 'fl-rider-2');
    assert.equal((await fix(fresh, { points: [] })).status, 400);
  });
});
