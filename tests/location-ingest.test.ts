import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Queue } from 'bullmq';
import { runPools } from '../workers/run-pools.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { createTestPlatform, eventually, type TestPlatform } from './support/services.ts';

const GANGNAM = { lat: 37.4979, lng: 127.0276 };
const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();

describe('rider location ingest and live position', () => {
  let platform: TestPlatform;
  let api: TestApi;
  let admin: string;
  before(async () => {
    // Four shards, as on a cluster: ingest, workers and every count here must see all of them.
    platform = await createTestPlatform({ LOCATION_QUEUE_SHARDS: '4' });
    api = await startTestApi(platform);
    admin = await api.token('admin', 'ops');
  });
  after(() => platform.cleanup());

  const post = async (riderId: string, points: unknown[]) => api.post('/v1/riders/me/locations', { points }, { token: await api.token('rider', riderId) });
  // The location queue is sharded by rider; these count across every shard.
  const total = async (count: (queue: Queue) => Promise<number>) => (await Promise.all(platform.queues.shards('location').map((s) => count(s.queue)))).reduce((a, b) => a + b, 0);
  const waiting = () => total((q) => q.getWaitingCount());

  describe('validation: one bad point rejects the request and applies nothing', () => {
    const good = { ...GANGNAM, recordedAt: iso(0) };
    const cases: Array<[string, unknown, string, RegExp]> = [
      ['no points', [], 'points', /at least one point/],
      ['501 points', Array.from({ length: 501 }, () => good), 'points', /at most 500/],
      ['latitude 91', [good, { ...good, lat: 91 }], 'points.1.lat', /<=90/],
      ['longitude as text', [{ ...good, lng: '127.0' }], 'points.0.lng', /number/],
      ['no offset', [{ ...good, recordedAt: '2026-11-23T12:00:00' }], 'points.0.recordedAt', /offset/],
      ['a minute ahead', [{ ...good, recordedAt: new Date(Date.now() + 60_000).toISOString() }], 'points.0.recordedAt', /30 s in the future/],
      ['two days old', [{ ...good, recordedAt: iso(48 * 3600_000) }], 'points.0.recordedAt', /24 h raw retention/],
      ['negative speed', [{ ...good, speed: -1 }], 'points.0.speed', />=0/],
      ['heading 400', [{ ...good, heading: 400 }], 'points.0.heading', /<=360/],
      ['mocked "yes"', [{ ...good, mocked: 'yes' }], 'points.0.mocked', /boolean/],
    ];
    for (const [name, points, path, message] of cases) {
      it(name, async () => {
        const res = await post('r-bad', points as unknown[]);
        assert.equal(res.status, 400);
        const body = await res.json();
        const error = body.errors.find((e: { path: string }) => e.path === path);
        assert.ok(error, `${path} in ${JSON.stringify(body.errors)}`);
        assert.match(error.message, message);
        assert.equal(await waiting(), 0, 'nothing enqueued');
      });
    }

    it('only riders post locations, and the rider comes from the token', async () => {
      const res = await api.post('/v1/riders/me/locations', { points: [good] }, { token: await api.token('customer', 'c-1') });
      assert.equal(res.status, 403);
    });
  });

  describe('with the location pool running', () => {
    before(async () => {
      await runPools(platform, platform.releasers, ['location']);
    });

    const location = async (riderId: string) => api.get(`/v1/riders/${riderId}/location`, { token: admin });
    const nearby = async (query = `lat=${GANGNAM.lat}&lng=${GANGNAM.lng}&radius=1000`) =>
      (await (await api.get(`/v1/riders/nearby?${query}`, { token: admin })).json()).riders as Array<{ riderId: string; distanceMeters: number }>;
    const status = async (riderId: string, value: string) =>
      fetch(`${api.url}/v1/riders/me/status`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await api.token('rider', riderId)}` },
        body: JSON.stringify({ status: value }),
      });

    it('acknowledges with 202 and the latest position becomes visible', async () => {
      const res = await post('r-1', [{ ...GANGNAM, recordedAt: iso(2_000), speed: 4.2, heading: 90, accuracy: 8 }]);
      assert.equal(res.status, 202);
      assert.deepEqual(await res.json(), { accepted: 1 });
      const body = await eventually(async () => {
        const r = await location('r-1');
        return r.status === 200 ? r.json() : undefined;
      }, 5_000, 'the position');
      assert.equal(body.lat, GANGNAM.lat);
      assert.equal(body.speed, 4.2);
      assert.equal(body.fresh, true);
    });

    it('batches applied out of order converge on the newest point', async () => {
      const newer = { lat: 37.5, lng: 127.03, recordedAt: iso(1_000) };
      const older = { lat: 37.49, lng: 127.02, recordedAt: iso(9_000) };
      assert.equal((await post('r-2', [newer])).status, 202);
      await eventually(async () => (await location('r-2')).status === 200, 5_000);
      assert.equal((await post('r-2', [older])).status, 202);
      await eventually(async () => (await total((q) => q.getCompletedCount())) >= 3, 5_000);
      assert.equal((await (await location('r-2')).json()).lat, 37.5);
    });

    it('nearby lists available, fresh riders nearest first across cells', async () => {
      // Four riders around 강남역: 100 m, 400 m, 900 m north, and one 3 km away.
      const offsets = [100, 400, 900, 3_000];
      for (const [i, metres] of offsets.entries()) {
        const id = `near-${i}`;
        assert.equal((await status(id, 'available')).status, 200);
        await post(id, [{ lat: GANGNAM.lat + metres / 111_320, lng: GANGNAM.lng, recordedAt: iso(1_000) }]);
      }
      const found = await eventually(async () => {
        const riders = (await nearby()).filter((r) => r.riderId.startsWith('near-'));
        return riders.length === 3 ? riders : undefined;
      }, 5_000, 'three riders within 1 km');
      assert.deepEqual(found.map((r) => r.riderId), ['near-0', 'near-1', 'near-2']);
      assert.ok(Math.abs(found[0]!.distanceMeters - 100) < 2);
    });

    it('offline riders and riders silent for 30 s are not nearby', async () => {
      await status('near-0', 'offline');
      await status('stale-1', 'available');
      await post('stale-1', [{ ...GANGNAM, recordedAt: iso(45_000) }]);
      await eventually(async () => (await location('stale-1')).status === 200, 5_000);
      const ids = (await nearby()).map((r) => r.riderId);
      assert.ok(!ids.includes('near-0'), 'offline');
      assert.ok(!ids.includes('stale-1'), 'stale');
      assert.equal((await (await location('stale-1')).json()).fresh, false);
    });

    it('nearby names a wrong query field', async () => {
      const res = await api.get('/v1/riders/nearby?lat=north&lng=127&radius=50000', { token: admin });
      assert.equal(res.status, 400);
      assert.deepEqual((await res.json()).errors.map((e: { path: string }) => e.path), ['query.lat', 'query.radius']);
    });
  });
});
