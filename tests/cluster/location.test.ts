import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { eachMaster, isCluster } from '../../runtime/redis-cluster.ts';
import { runPools } from '../../workers/run-pools.ts';
import { startTestApi, type TestApi } from '../support/http.ts';
import { ROOT } from '../support/processes.ts';
import { createTestPlatform, eventually, type TestPlatform } from '../support/services.ts';

const GANGNAM = { lat: 37.4979, lng: 127.0276 };
const north = (metres: number) => ({ lat: GANGNAM.lat + metres / 111_320, lng: GANGNAM.lng });
const RIDERS = Array.from({ length: 16 }, (_, i) => `c-rider-${i}`);

describe('on Redis Cluster: location ingest → live position, nearby, history', () => {
  let platform: TestPlatform;
  let api: TestApi;
  let admin: string;
  const t0 = Date.now() - 60_000;
  const at = (seconds: number) => new Date(t0 + seconds * 1_000).toISOString();

  before(async () => {
    platform = await createTestPlatform();
    api = await startTestApi(platform);
    admin = await api.token('admin', 'ops');
    await runPools(platform, platform.releasers, ['location']);
  });
  after(() => platform.cleanup());

  const stored = async (riderId: string) => Number((await platform.db('rider_locations').where({ rider_id: riderId }).count('* as n'))[0]!.n);

  it('runs on a cluster of three masters', () => {
    assert.ok(isCluster(platform.redis), 'the platform talks to a Redis Cluster');
    assert.equal(eachMaster(platform.redis).length, 3);
  });

  it('every acknowledged point of many riders reaches history, and each rider has its newest position', async () => {
    // Concurrent requests of many riders: group commits per shard, riders spread over every shard.
    await Promise.all(
      RIDERS.map(async (riderId, r) => {
        const token = await api.token('rider', riderId);
        const status = await fetch(`${api.url}/v1/riders/me/status`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ status: 'available' }) });
        assert.equal(status.status, 200);
        const ride = Array.from({ length: 6 }, (_, i) => ({ ...north(r * 50 + i * 10), recordedAt: at(40 + i * 2), speed: 5 }));
        const res = await api.post('/v1/riders/me/locations', { points: ride }, { token });
        assert.equal(res.status, 202);
      }),
    );
    for (const riderId of RIDERS) await eventually(async () => (await stored(riderId)) === 6, 20_000, `6 points of ${riderId} in history`);
    for (const [r, riderId] of RIDERS.entries()) {
      const res = await api.get(`/v1/riders/${riderId}/location`, { token: admin });
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.ok(Math.abs(body.lat - north(r * 50 + 50).lat) < 1e-9, `${riderId} is at its newest point`);
    }
  });

  it('nearby finds available riders across geo cells on different nodes', async () => {
    const res = await api.get(`/v1/riders/nearby?lat=${GANGNAM.lat}&lng=${GANGNAM.lng}&radius=2000&limit=50`, { token: admin });
    assert.equal(res.status, 200);
    const { riders } = (await res.json()) as { riders: Array<{ riderId: string; distanceMeters: number }> };
    assert.deepEqual(new Set(riders.map((r) => r.riderId)), new Set(RIDERS));
    assert.deepEqual(riders.map((r) => r.distanceMeters), [...riders.map((r) => r.distanceMeters)].sort((a, b) => a - b), 'nearest first');
  });

  it('the location queue is sharded: its shards sit on at least two masters, and every shard worked', async () => {
    const shards = platform.queues.shards('location');
    assert.equal(shards.length, 4);
    const completed = await Promise.all(shards.map((s) => s.queue.getCompletedCount()));
    assert.ok(completed.filter((n) => n > 0).length >= 2, `jobs spread over shards: ${completed.join(', ')}`);
    // Each master answers KEYS for its own slots only.
    const shardsPerMaster = await Promise.all(
      eachMaster(platform.redis).map(async (node) => new Set((await node.keys(`${platform.prefix}:{location-*}:*`)).map((key) => key.split(':')[1]))),
    );
    assert.deepEqual(new Set(shardsPerMaster.flatMap((set) => [...set])), new Set(shards.map((s) => s.name)), 'every shard has keys');
    assert.ok(shardsPerMaster.filter((set) => set.size > 0).length >= 2, `location shards by master: ${shardsPerMaster.map((set) => [...set].join(' ')).join(' | ')}`);
    const mastersWithRiders = await Promise.all(eachMaster(platform.redis).map(async (node) => (await node.keys(`${platform.prefix}:rider:*`)).length));
    assert.ok(mastersWithRiders.filter((n) => n > 0).length >= 2, `riders' live state spreads over masters: ${mastersWithRiders.join(', ')}`);
  });

  it('the ops map reads every rider from every master', async () => {
    const res = await api.get('/v1/admin/map', { token: admin });
    assert.equal(res.status, 200);
    const map = (await res.json()) as { riders: Array<{ id: string }>; queues: Array<{ name: string }> };
    for (const riderId of RIDERS) assert.ok(map.riders.some((r) => r.id === riderId), `${riderId} on the map`);
    assert.deepEqual(map.queues.filter((q) => q.name.startsWith('location')).map((q) => q.name), ['location-0', 'location-1', 'location-2', 'location-3']);
  });

  it('`deligo jobs list --queue location` lists the jobs of every shard', () => {
    const run = spawnSync(process.execPath, ['bin/deligo.js', 'jobs', 'list', '--queue', 'location', '--state', 'completed', '--limit', '500', '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, ...platform.childEnv },
    });
    assert.equal(run.status, 0, run.stderr);
    const rows = JSON.parse(run.stdout) as Array<{ queue: string; name: string }>;
    assert.ok(rows.every((r) => /^location-[0-3]$/.test(r.queue) && r.name === 'location.batch'));
    assert.ok(new Set(rows.map((r) => r.queue)).size >= 2, `shards listed: ${[...new Set(rows.map((r) => r.queue))].join(', ')}`);
  });
});
