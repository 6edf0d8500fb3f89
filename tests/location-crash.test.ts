import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApi, type TestApi } from './support/http.ts';
import { killSpawned, spawnTs, type Spawned } from './support/processes.ts';
import { createTestPlatform, eventually, type TestPlatform } from './support/services.ts';

describe('a location worker killed under load', () => {
  after(killSpawned);
  let platform: TestPlatform;
  let api: TestApi;
  before(async () => {
    platform = await createTestPlatform();
    api = await startTestApi(platform);
  });
  after(() => platform.cleanup());

  it('loses no acknowledged point and stores none twice', async () => {
    const start = (): Spawned => spawnTs('workers/main.ts', ['--pools', 'location'], platform.childEnv);
    const first = start();
    await first.waitFor(/workers ready/);
    const riders = 40;
    const tokens = await Promise.all(Array.from({ length: riders }, (_, i) => api.token('rider', `crash-r${i}`)));
    const t0 = Date.now() - 600_000;
    let acked = 0;
    let killed = false;
    // 40 riders × 30 rounds of 5 points; the worker is killed a third of the way in.
    for (let round = 0; round < 30; round++) {
      if (round === 10) {
        process.kill(first.child.pid!, 'SIGKILL');
        killed = true;
      }
      const results = await Promise.all(
        tokens.map((token, r) => {
          const points = Array.from({ length: 5 }, (_, k) => ({
            lat: 37.49 + r * 0.001,
            lng: 127.02 + (round * 5 + k) * 0.0001,
            recordedAt: new Date(t0 + (round * 5 + k) * 1_000).toISOString(),
          }));
          return api.post('/v1/riders/me/locations', { points }, { token });
        }),
      );
      for (const res of results) if (res.status === 202) acked += ((await res.json()) as { accepted: number }).accepted;
    }
    assert.ok(killed);
    assert.equal(acked, riders * 30 * 5, 'the API acknowledged everything while the worker was down');
    const second = start();
    await second.waitFor(/workers ready/);
    const count = async () => Number((await platform.db('rider_locations').where('rider_id', 'like', 'crash-r%').count('* as n'))[0]!.n);
    // The killed worker's job comes back after its lock expires (BullMQ's stalled-job check).
    await eventually(async () => (await count()) === acked, 90_000, `all ${acked} acknowledged points in history`);
    const duplicates = await platform.db.raw(
      `SELECT count(*) AS n FROM (SELECT rider_id, recorded_at FROM rider_locations WHERE rider_id LIKE 'crash-r%' GROUP BY 1, 2 HAVING count(*) > 1) d`,
    );
    assert.equal(Number(duplicates.rows[0].n), 0);
  });
});
