import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dispatchKeys } from '../dispatch/candidate-facts.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

describe('rider preferences', () => {
  let platform: TestPlatform;
  let api: TestApi;
  before(async () => {
    platform = await createTestPlatform();
    api = await startTestApi(platform);
  });
  after(() => platform.cleanup());

  const put = async (path: string, body: unknown, token: string) =>
    fetch(api.url + path, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  const cached = async (riderId: string) => platform.redis.hget(dispatchKeys(platform.config.queuePrefix).profiles, riderId);

  it('a new rider reads the defaults, then sets each preference without losing the other', async () => {
    const token = await api.token('rider', 'pref-rider-1');
    const fresh = await api.get('/v1/riders/me/preferences', { token });
    assert.equal(fresh.status, 200);
    assert.deepEqual(await fresh.json(), { riderId: 'pref-rider-1', maxDistanceMeters: 3_000, autoAccept: false, offersReceived: 0, offersAccepted: 0, acceptanceRate: 1 });

    const far = await put('/v1/riders/me/preferences', { maxDistanceMeters: 5_000 }, token);
    assert.equal(far.status, 200);
    assert.equal(((await far.json()) as { maxDistanceMeters: number }).maxDistanceMeters, 5_000);
    const auto = await put('/v1/riders/me/preferences', { autoAccept: true }, token);
    assert.deepEqual(await auto.json(), { riderId: 'pref-rider-1', maxDistanceMeters: 5_000, autoAccept: true, offersReceived: 0, offersAccepted: 0, acceptanceRate: 1 });

    // Dispatch reads profiles from Redis: the change is there for the next match, not only in Postgres.
    assert.equal(await cached('pref-rider-1'), '5000|1|0|0');
    const row = await platform.db('rider_profiles').where({ rider_id: 'pref-rider-1' }).first();
    assert.equal(row.max_distance_m, 5_000);
    assert.equal(row.auto_accept, true);
  });

  it('keeps the offer tallies dispatch counted', async () => {
    await platform.db('rider_profiles').insert({ rider_id: 'pref-rider-2', offers_received: 10, offers_accepted: 7 });
    const res = await put('/v1/riders/me/preferences', { maxDistanceMeters: 1_500 }, await api.token('rider', 'pref-rider-2'));
    assert.deepEqual(await res.json(), { riderId: 'pref-rider-2', maxDistanceMeters: 1_500, autoAccept: false, offersReceived: 10, offersAccepted: 7, acceptanceRate: 0.7 });
    assert.equal(await cached('pref-rider-2'), '1500|0|10|7');
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['too short a distance', { maxDistanceMeters: 50 }, /^maxDistanceMeters: at least 300 m$/],
    ['too long a distance', { maxDistanceMeters: 50_000 }, /^maxDistanceMeters: at most 20000 m$/],
    ['a fractional distance', { maxDistanceMeters: 1_500.5 }, /^maxDistanceMeters: a whole number of metres$/],
    ['a distance as text', { maxDistanceMeters: '2km' }, /^maxDistanceMeters: a whole number of metres$/],
    ['auto-accept as text', { autoAccept: 'yes' }, /^autoAccept: true or false$/],
    ['nothing to change', {}, /^maxDistanceMeters: give maxDistanceMeters, autoAccept or both$/],
    ['an unknown field', { maxDistance: 2_000 }, /^\(body\): Unrecognized key: "maxDistance"/],
  ];
  for (const [name, body, detail] of bad) {
    it(`${name}: 400 problem+json naming the field, nothing changed`, async () => {
      const token = await api.token('rider', 'pref-rider-3');
      const res = await put('/v1/riders/me/preferences', body, token);
      assert.equal(res.status, 400);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.match(((await res.json()) as { detail: string }).detail, detail);
      assert.equal(await platform.db('rider_profiles').where({ rider_id: 'pref-rider-3' }).first(), undefined);
    });
  }

  it('only riders set their own; ops read and set anyone’s; others are refused', async () => {
    const customer = await api.token('customer', 'pref-customer');
    assert.equal((await api.get('/v1/riders/me/preferences', { token: customer })).status, 403);
    assert.equal((await put('/v1/riders/pref-rider-4/preferences', { autoAccept: true }, await api.token('rider', 'pref-rider-5'))).status, 403);

    const admin = await api.token('admin', 'ops');
    const set = await put('/v1/riders/pref-rider-4/preferences', { maxDistanceMeters: 800, autoAccept: true }, admin);
    assert.equal(set.status, 200);
    const read = await api.get('/v1/riders/pref-rider-4/preferences', { token: admin });
    assert.deepEqual(await read.json(), { riderId: 'pref-rider-4', maxDistanceMeters: 800, autoAccept: true, offersReceived: 0, offersAccepted: 0, acceptanceRate: 1 });
    const mine = await api.get('/v1/riders/me/preferences', { token: await api.token('rider', 'pref-rider-4') });
    assert.equal(((await mine.json()) as { maxDistanceMeters: number }).maxDistanceMeters, 800);
  });
});
