import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLiveLocation, type LiveLocation } from '../../location/live-location.ts';
import { nearbyModeFor } from '../../location/nearby-search.ts';
import { isCluster } from '../../runtime/redis-cluster.ts';
import { nearbyQueries, referenceNearby, seedNearbyFleet } from '../support/nearby.ts';
import { createTestPlatform, type TestPlatform } from '../support/services.ts';

describe('on Redis Cluster: nearby takes the pipelined path and gives the one-key answer', () => {
  let platform: TestPlatform;
  let live: LiveLocation;
  let refKey: string;
  const now = Date.now();

  before(async () => {
    platform = await createTestPlatform();
    // As the API and the workers build it: no mode given.
    live = createLiveLocation(platform.redis, platform.prefix);
    const indexed = await seedNearbyFleet(live, now);
    refKey = `${platform.prefix}:nearby-reference`;
    await platform.redis.geoadd(refKey, ...indexed.flatMap((r) => [r.lng, r.lat, r.riderId]));
  });
  after(() => platform.cleanup());

  it('picks the pipeline on a cluster and refuses the script, which reads keys of many slots', () => {
    assert.ok(isCluster(platform.redis));
    assert.equal(nearbyModeFor(platform.redis), 'pipeline');
    assert.throws(() => createLiveLocation(platform.redis, platform.prefix, { nearby: 'script' }), /Redis Cluster/);
  });

  it('the same riders in the same order as one unsharded GEO key, busy, offline and stale riders left out', async () => {
    let found = 0;
    for (const query of nearbyQueries(now)) {
      const expected = await referenceNearby(platform.redis, live, refKey, query);
      assert.deepEqual(await live.nearby(query), expected, `query ${JSON.stringify(query)}`);
      found += expected.length;
    }
    assert.ok(found > 300, `the queries found riders (${found})`);
  });
});
