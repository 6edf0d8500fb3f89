import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { LocationPoint } from '../domain/location/point.ts';
import { createFleetIndex, fleetShard } from '../location/fleet-index.ts';
import { createLiveLocation } from '../location/live-location.ts';
import { createRecentTrack } from '../location/recent-track.ts';
import { createTestPlatform, eventually, type TestPlatform } from './support/services.ts';

const point = (riderId: string, secondsAgo: number, lat: number): LocationPoint => ({
  riderId,
  recordedAt: Date.now() - secondsAgo * 1_000,
  lat,
  lng: 127.0276,
  speed: 5,
  heading: 90,
  accuracy: 6,
  mocked: false,
});

describe('live location: one batch applied', () => {
  let platform: TestPlatform;
  let subscriber: Redis;
  before(async () => {
    platform = await createTestPlatform();
    subscriber = new Redis(platform.urls.redisUrl);
  });
  after(async () => {
    subscriber.disconnect();
    await platform.cleanup();
  });

  it('publishes each rider whose position moved, once, with its newest point; an older batch publishes nothing', async () => {
    const live = createLiveLocation(platform.redis, platform.prefix);
    const heard: Array<Record<string, unknown>> = [];
    await subscriber.subscribe(live.keys.updates('lv-a'), live.keys.updates('lv-b'));
    subscriber.on('message', (_channel, message) => heard.push(JSON.parse(message)));

    const newest = point('lv-a', 5, 37.501);
    const moved = await live.apply([point('lv-a', 15, 37.499), newest, point('lv-b', 10, 37.49), point('lv-a', 10, 37.5)]);
    assert.deepEqual(moved.map((p) => p.riderId).sort(), ['lv-a', 'lv-b']);
    await eventually(() => heard.length >= 2, 5_000, 'two updates');
    const a = heard.find((m) => m.riderId === 'lv-a')!;
    assert.deepEqual(a, { riderId: 'lv-a', lat: newest.lat, lng: newest.lng, recordedAt: newest.recordedAt, speed: 5, heading: 90 });

    // Out of order: older than what is stored, so nothing moves and nobody is told.
    assert.deepEqual(await live.apply([point('lv-a', 20, 37.4)]), []);
    await live.apply([point('lv-b', 1, 37.491)]);
    await eventually(() => heard.length >= 3, 5_000, 'the next update of lv-b');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(heard.map((m) => m.riderId).sort(), ['lv-a', 'lv-b', 'lv-b']);
    assert.equal((await live.state.get('lv-a'))!.lat, newest.lat);
  });

  it('frees a busy rider in one step, and leaves an offline, an available or an unknown rider as they are', async () => {
    const live = createLiveLocation(platform.redis, platform.prefix);
    await live.apply([point('fb-busy', 1, 37.4979), point('fb-off', 1, 37.4979), point('fb-free', 1, 37.4979)]);
    await live.setStatus('fb-busy', 'busy', Date.now());
    await live.setStatus('fb-off', 'offline', Date.now());
    await live.setStatus('fb-free', 'available', Date.now());
    const nearby = async () => (await live.nearby({ lat: 37.4979, lng: 127.0276, radiusMeters: 500, limit: 10, now: Date.now() })).map((r) => r.riderId).sort();
    assert.deepEqual(await nearby(), ['fb-free']);
    const freed = await live.freeIfBusy('fb-busy', Date.now());
    assert.equal(freed?.status, 'available');
    assert.deepEqual(await nearby(), ['fb-busy', 'fb-free'], 'back in the geo index');
    for (const id of ['fb-off', 'fb-free', 'fb-nobody']) assert.equal(await live.freeIfBusy(id, Date.now()), undefined, id);
    assert.equal((await live.state.get('fb-off'))?.status, 'offline', 'a rider who signed off stays off');
    assert.equal(await live.state.get('fb-nobody'), undefined, 'no state is made up for a rider never seen');
  });

  it('notes a batch of riders from many fleet shards in the fleet index, positions only moving forward', async () => {
    const live = createLiveLocation(platform.redis, platform.prefix);
    const riders = Array.from({ length: 40 }, (_, i) => `fl-${i}`);
    assert.ok(new Set(riders.map(fleetShard)).size > 8, 'the riders span many shards');
    await live.apply(riders.map((id, i) => point(id, 10, 37.4 + i * 0.001)));
    // A later batch with some riders older (out of order) and some newer.
    await live.apply(riders.map((id, i) => point(id, i % 2 === 0 ? 20 : 2, 37.6 + i * 0.001)));
    const fleet = createFleetIndex(platform.redis, live.keys);
    const entries = new Map((await fleet.read(riders)).map((e) => [e.riderId, e]));
    assert.equal(entries.size, riders.length);
    riders.forEach((id, i) => {
      const expected = i % 2 === 0 ? 37.4 + i * 0.001 : 37.6 + i * 0.001;
      assert.equal(entries.get(id)!.lat, expected, id);
    });
    // A batch's status change (one script call for every shard on one Redis) keeps each position.
    const now = Date.now();
    await live.setStatuses([...riders.slice(0, 20), 'fl-no-position'], 'busy', now);
    const changed = new Map((await fleet.read([...riders, 'fl-no-position'])).map((e) => [e.riderId, e]));
    assert.equal(changed.size, riders.length, 'a rider without a position is not drawn');
    riders.forEach((id, i) => {
      assert.equal(changed.get(id)!.status, i < 20 ? 'busy' : 'offline', id);
      assert.equal(changed.get(id)!.lat, entries.get(id)!.lat, id);
    });
    assert.ok((await fleet.touchedSince(now)).some(([id]) => id === 'fl-0'), 'the change is noted as a touch');
  });

  it('the fraud window of several riders in one call: each gets the fixes around its own batch, not its own points, whatever the order', async () => {
    const track = createRecentTrack(platform.redis, platform.prefix);
    const t0 = Date.now() - 100_000;
    const ride = (riderId: string, seconds: number[]) => seconds.map((s) => ({ ...point(riderId, 0, 37.5 + s * 1e-4), recordedAt: t0 + s * 1_000 }));
    const batch = (entries: Array<[string, LocationPoint[]]>) => new Map(entries);
    const seconds = (points: LocationPoint[] | undefined) => (points ?? []).map((p) => (p.recordedAt - t0) / 1_000).sort((a, b) => a - b);

    const first = await track.addAndRead(batch([['tr-a', ride('tr-a', [0, 5, 10])], ['tr-b', ride('tr-b', [0, 5])]]));
    assert.deepEqual(seconds(first.get('tr-a')), []);
    assert.deepEqual(seconds(first.get('tr-b')), []);
    // tr-a's later batch arrives before its middle one; tr-b's batch is retried (its points are known).
    const later = await track.addAndRead(batch([['tr-a', ride('tr-a', [30, 35])], ['tr-b', ride('tr-b', [0, 5])], ['tr-c', ride('tr-c', [1])]]));
    assert.deepEqual(seconds(later.get('tr-a')), [0, 5, 10]);
    assert.deepEqual(seconds(later.get('tr-b')), []);
    assert.deepEqual(seconds(later.get('tr-c')), []);
    const middle = await track.addAndRead(batch([['tr-a', ride('tr-a', [15, 20])]]));
    // The fixes before it, and every later one (the rules judge the pairs it forms on both sides).
    assert.deepEqual(seconds(middle.get('tr-a')), [0, 5, 10, 30, 35]);
  });
});
