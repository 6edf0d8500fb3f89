import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { fraudAlertChannel } from '../location/fraud-check.ts';
import { runPools } from '../workers/run-pools.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { createTestPlatform, eventually, type TestPlatform } from './support/services.ts';

const GANGNAM = { lat: 37.4979, lng: 127.0276 };
const north = (metres: number) => ({ lat: GANGNAM.lat + metres / 111_320, lng: GANGNAM.lng });

describe('location pipeline: history, fraud and tracks', () => {
  let platform: TestPlatform;
  let api: TestApi;
  let admin: string;
  const t0 = Date.now() - 120_000;
  const at = (seconds: number) => new Date(t0 + seconds * 1_000).toISOString();

  before(async () => {
    platform = await createTestPlatform();
    api = await startTestApi(platform);
    admin = await api.token('admin', 'ops');
    await runPools(platform, platform.releasers, ['location']);
  });
  after(() => platform.cleanup());

  const post = async (riderId: string, points: unknown[]) => {
    const res = await api.post('/v1/riders/me/locations', { points }, { token: await api.token('rider', riderId) });
    assert.equal(res.status, 202);
  };
  const stored = async (riderId: string) => Number((await platform.db('rider_locations').where({ rider_id: riderId }).count('* as n'))[0]!.n);

  it('every acknowledged point reaches history once, even when re-sent', async () => {
    const ride = Array.from({ length: 12 }, (_, i) => ({ ...north(i * 40), recordedAt: at(i * 5), speed: 8 }));
    await post('r-hist', ride);
    await post('r-hist', ride.slice(4, 8)); // the phone retried part of it
    await eventually(async () => (await stored('r-hist')) === 12, 5_000, '12 points in history');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await stored('r-hist'), 12);
  });

  it('a 5 km jump in 1 s raises one alert to ops within a second, flags the fix, and leaves it out of the distance', async () => {
    const subscriber = new Redis(platform.urls.redisUrl);
    const heard: Array<{ at: number; alert: { rule: string; riderId: string } }> = [];
    await subscriber.subscribe(fraudAlertChannel(platform.prefix));
    subscriber.on('message', (_channel, message) => heard.push({ at: Date.now(), alert: JSON.parse(message) }));
    try {
      const honest = [0, 5, 10].map((s, i) => ({ ...north(i * 40), recordedAt: at(s), speed: 8 }));
      await post('r-fraud', honest);
      await eventually(async () => (await stored('r-fraud')) === 3, 5_000);
      const sent = Date.now();
      await post('r-fraud', [{ ...north(5_080), recordedAt: at(11), speed: 8 }]);
      const alert = await eventually(() => heard.find((h) => h.alert.riderId === 'r-fraud'), 5_000, 'the fraud alert on the ops channel');
      assert.equal(alert.alert.rule, 'teleport');
      assert.ok(alert.at - sent < 1_000, `alert reached ops ${alert.at - sent} ms after ingest`);

      const row = await platform.db('fraud_alerts').where({ rider_id: 'r-fraud' }).first();
      assert.equal(row.severity, 'critical');
      const flagged = await platform.db('rider_locations').where({ rider_id: 'r-fraud', flagged: true }).count('* as n');
      assert.equal(Number(flagged[0]!.n), 1);
      const push = await platform.db('notification_deliveries').where({ event: 'ops.fraud_alert', recipient_key: 'user:ops' });
      assert.equal(push.length, 1);

      const alerts = await (await api.get('/v1/admin/fraud-alerts?riderId=r-fraud', { token: admin })).json();
      assert.equal(alerts.alerts.length, 1);
      assert.match(alerts.alerts[0].detail, /5\.\d km in 1\.0 s/);

      // Re-sending the same fix changes nothing: no second alert.
      await post('r-fraud', [{ ...north(5_080), recordedAt: at(11), speed: 8 }]);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(heard.filter((h) => h.alert.riderId === 'r-fraud').length, 1);

      const track = await (await api.get(`/v1/riders/r-fraud/track?from=${encodeURIComponent(at(-1))}&to=${encodeURIComponent(at(60))}`, { token: admin })).json();
      assert.equal(track.points.length, 4);
      assert.equal(track.points[3].flagged, true);
      assert.ok(Math.abs(track.distanceMeters - 80) <= 1, `settlement distance ${track.distanceMeters} m leaves the jump out`);
    } finally {
      subscriber.disconnect();
    }
  });

  it('a track query names a wrong field', async () => {
    const res = await api.get(`/v1/riders/r-hist/track?from=${encodeURIComponent(at(10))}&to=${encodeURIComponent(at(0))}&resolution=hourly`, { token: admin });
    assert.equal(res.status, 400);
    assert.deepEqual((await res.json()).errors.map((e: { path: string }) => e.path), ['query.resolution']);
  });
});
