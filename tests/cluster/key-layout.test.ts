import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createOpenGroupIndex } from '../../group-orders/open-index.ts';
import type { JobContext } from '../../jobs/job-definition.ts';
import { locationSweep } from '../../jobs/location-sweep.ts';
import { getEach } from '../../runtime/redis-cluster.ts';
import { keySlot } from '../../runtime/redis-slot.ts';
import { createJobDeps } from '../../workers/job-deps.ts';
import { createTestPlatform, type TestPlatform } from '../support/services.ts';

const GANGNAM = { lat: 37.4979, lng: 127.0276 };

describe('on Redis Cluster: pipelines, multi-key steps and scans across slots', () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await createTestPlatform();
  });
  after(() => platform.cleanup());

  it('a pipeline over keys of many slots answers every command in order, errors in place', async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `${platform.prefix}:pipe:{k${i}}`);
    assert.ok(new Set(keys.map(keySlot)).size > 30, 'the keys span many slots');
    const pipeline = platform.redis.pipeline();
    keys.forEach((key, i) => pipeline.set(key, `v${i}`));
    keys.forEach((key) => pipeline.get(key));
    pipeline.hget(keys[3]!, 'field'); // a string, not a hash: WRONGTYPE, for this command only
    pipeline.incr(keys[0]! + ':n');
    const replies = (await pipeline.exec())!;
    assert.equal(replies.length, keys.length * 2 + 2);
    keys.forEach((_, i) => assert.deepEqual(replies[i], [null, 'OK']));
    keys.forEach((_, i) => assert.deepEqual(replies[keys.length + i], [null, `v${i}`]));
    assert.match(String(replies[keys.length * 2]![0]), /WRONGTYPE/);
    assert.deepEqual(replies[keys.length * 2 + 1], [null, 1]);
    assert.deepEqual(await getEach(platform.redis, [keys[5]!, `${platform.prefix}:pipe:{missing}`, keys[9]!]), ['v5', null, 'v9']);
  });

  it('open group orders: one MULTI and one search script per cell (its keys share the cell tag), nearby across cells', async () => {
    const index = createOpenGroupIndex(platform.redis, platform.prefix);
    const card = (id: string, metresNorth: number) => ({
      id, restaurantId: 'r-1', restaurantName: '강남 떡볶이', category: 'bunsik', mode: 'SPLIT' as const, deliveryTip: 3_000, menuTotal: 18_000,
      address: '강남대로 396', lat: GANGNAM.lat + metresNorth / 111_320, lng: GANGNAM.lng, expiresAt: Date.now() + 60_000,
    });
    // 0 m, 1.5 km and 3 km north: three different ~1.1 km cells.
    for (const [id, m] of [['g-0', 0], ['g-1', 1_500], ['g-2', 3_000]] as const) await index.add(card(id, m));
    const ids = (entries: string[]) => entries.map((e) => (JSON.parse(e) as { id: string }).id);
    const near = await index.nearbyJson({ ...GANGNAM, radiusMeters: 3_500, category: 'bunsik', limit: 10, now: Date.now() });
    assert.deepEqual(ids(near), ['g-0', 'g-1', 'g-2']);
    await index.remove({ id: 'g-1', lat: card('g-1', 1_500).lat, lng: GANGNAM.lng });
    const after = await index.nearbyJson({ ...GANGNAM, radiusMeters: 3_500, limit: 10, now: Date.now() });
    assert.deepEqual(ids(after), ['g-0', 'g-2']);
  });

  it('the stale-rider sweep scans the geo cells of every master', async () => {
    const deps = createJobDeps(platform);
    const { location } = deps;
    const riders = Array.from({ length: 12 }, (_, i) => ({ id: `sweep-${i}`, lat: GANGNAM.lat + (i * 1_500) / 111_320, lng: GANGNAM.lng }));
    const now = Date.now();
    for (const [i, r] of riders.entries()) {
      await location.setStatus(r.id, 'available', now);
      // Even riders sent their last point a minute ago (stale), odd ones just now.
      await location.apply([{ riderId: r.id, lat: r.lat, lng: r.lng, recordedAt: i % 2 === 0 ? now - 60_000 : now, speed: null, heading: null, accuracy: null, mocked: false }]);
    }
    const cells = new Set(await Promise.all(riders.map(async (r) => location.keys.cell((await location.state.get(r.id))!.cell))));
    assert.ok(new Set([...cells].map(keySlot)).size >= 2, 'the riders are in cells of several slots');
    const ctx = { ...deps, logger: platform.logger, job: { id: 'sweep', name: locationSweep.name, queue: 'maintenance', attemptsMade: 0, attemptsStarted: 1, attempts: 1, worker: 'test', enqueuedAt: now } } as JobContext;
    const result = (await locationSweep.handler({}, ctx)) as { removed: number };
    assert.equal(result.removed, 6);
    const left = (await Promise.all([...cells].map((key) => platform.redis.zrange(key, 0, -1)))).flat().sort();
    assert.deepEqual(left, riders.filter((_, i) => i % 2 === 1).map((r) => r.id).sort());
    await deps.close();
  });
});
