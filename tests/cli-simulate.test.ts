import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { seedCatalogue } from '../cli/commands/seed.ts';
import { runPools } from '../workers/run-pools.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

const root = path.resolve(import.meta.dirname, '..');
type Run = { code: number | null; stdout: string; stderr: string };

/** `npx deligo simulate …` in a child process, with none of the developer's own settings. */
function deligo(args: string[], dataDir: string): Promise<Run> {
  const env = { ...process.env };
  for (const key of ['REDIS_URL', 'DATABASE_URL', 'QUEUE_PREFIX', 'LOG_LEVEL', 'JWT_SECRET', 'PORT']) delete env[key];
  const child = spawn(process.execPath, ['bin/deligo.js', ...args], { cwd: root, env: { ...env, NODE_ENV: 'test', DATA_DIR: dataDir } });
  const run: Run = { code: null, stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (run.stdout += d));
  child.stderr.on('data', (d) => (run.stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ ...run, code })));
}

describe('deligo simulate', () => {
  let platform: TestPlatform;
  let api: TestApi;
  let dataDir: string;
  before(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'deligo-sim-'));
    platform = await createTestPlatform();
    api = await startTestApi(platform);
    await seedCatalogue(platform.db);
    await runPools(platform, platform.releasers, ['location', 'orders', 'dispatch', 'notifications']);
  });
  after(async () => {
    await platform.cleanup();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('drives the API, then prints a summary and leaves no open order or rider on duty', async () => {
    const run = await deligo(['simulate', '--riders', '4', '--orders-per-min', '40', '--hotspot', 'gangnam', '--duration', '8s', '--api', api.url, '--seed', '5', '--cook-seconds', '0.2'], dataDir);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /^simulating 4 riders and 40 orders\/min around gangnam against http:\/\/127\.0\.0\.1:\d+\n/);
    assert.match(run.stdout, /^simulated 00:\d\d\norders +\d+ placed/);
    assert.match(run.stdout, /locations +\d+ points posted/);
    assert.match(run.stdout, /errors +none|errors +(409 × \d+(, )?)+$/m);
    const placed = Number(run.stdout.match(/orders +(\d+) placed/)![1]);
    assert.ok(placed > 0, run.stdout);
    const open = await platform.db('orders').whereIn('status', ['PLACED', 'COOKING', 'READY_FOR_PICKUP', 'PICKED_UP', 'DELIVERING']).count<{ count: string }[]>('* as count');
    assert.equal(Number(open[0]!.count), 0, 'open orders are cancelled at the end');
    const statuses = await Promise.all([1, 2, 3, 4].map(async (n) => {
      const keys = await platform.redis.keys(`${platform.prefix}:rider:{sim-*-r${n}}`);
      return platform.redis.hget(keys[0]!, 'status');
    }));
    assert.deepEqual(statuses, ['offline', 'offline', 'offline', 'offline']);
  });

  it('says in one line when there is no API, and refuses bad options', async () => {
    const none = await deligo(['simulate', '--riders', '2', '--orders-per-min', '1', '--duration', '5s', '--api', 'http://127.0.0.1:9'], dataDir);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /deligo: no deligo API answers at http:\/\/127\.0\.0\.1:9: run `npm start`, or pass --api\n$/);
    const bad = await deligo(['simulate', '--riders', '0', '--orders-per-min', '1'], dataDir);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--riders.*at least 1/);
    const hotspot = await deligo(['simulate', '--riders', '1', '--orders-per-min', '1', '--hotspot', 'busan'], dataDir);
    assert.equal(hotspot.code, 2);
    assert.match(hotspot.stderr, /Allowed choices are gangnam, hongdae/);
  });
});
