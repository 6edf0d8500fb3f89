import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { isAlive } from '../runtime/embedded/processes.ts';
import { eventually } from './support/services.ts';
import { killSpawned, processesMentioning, spawnTs } from './support/processes.ts';

describe('npm start', () => {
  after(killSpawned);
  let dataDir: string;
  after(async () => {
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('brings up everything with embedded Redis and Postgres, and Ctrl-C leaves nothing behind', async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'deligo-start-'));
    await fs.chmod(dataDir, 0o755);
    // No REDIS_URL and no DATABASE_URL: exactly what a fresh clone gets.
    const env: Record<string, string> = { DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', REDIS_URL: '', DATABASE_URL: '', QUEUE_PREFIX: 'deligo' };
    const started = Date.now();
    const start = spawnTs('runtime/start.ts', [], env);
    const [, seconds] = await start.waitFor(/deligo is ready in ([\d.]+) s/, 60_000);
    const [, url] = await start.waitFor(/API {10}(http:\/\/\S+)/);
    const [, token] = await start.waitFor(/Admin token {2}(\S+)/);
    assert.ok(Number(seconds) > 0 && Date.now() - started < 60_000);

    assert.equal((await fetch(`${url}/readyz`)).status, 200);
    const queues = await fetch(`${url}/admin/queues/api/queues`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(queues.status, 200, 'the printed admin token opens Bull Board');
    assert.match(start.output(), /Pools {8}location, dispatch, orders, notifications, gifts, group-orders, maintenance/);

    const services = JSON.parse(await fs.readFile(path.join(dataDir, 'services.json'), 'utf8'));
    // The embedded Redis by its port, reached through its Unix socket (runtime/embedded/redis-server.ts).
    assert.match(services.redisUrl, /^redis:\/\/127\.0\.0\.1:\d+\?path=%2F\S+redis\.sock$/);
    const pids = [await pidFrom(path.join(dataDir, 'redis', 'redis.pid')), await pidFrom(path.join(dataDir, 'pg', 'postmaster.pid'))];
    assert.ok(pids.every(isAlive), 'embedded redis-server and postgres run under DATA_DIR');

    // The heartbeat scheduler fires at once, so one full scheduler → queue → worker → Postgres trip shows up.
    await eventually(async () => {
      const ready = await (await fetch(`${url}/readyz`)).json();
      return ready.lastHeartbeatAt;
    }, 20_000, 'the first heartbeat');

    // Ctrl-C in a terminal signals the whole foreground process group.
    process.kill(-start.child.pid!, 'SIGINT');
    const { code } = await start.exited;
    assert.equal(code, 0, start.output().slice(-2000));
    await eventually(async () => !pids.some(isAlive) && (await processesMentioning(dataDir)).length === 0, 10_000, 'no process left behind');
    await assert.rejects(fs.access(path.join(dataDir, 'services.json')), 'services file removed');
  });

  it('even a SIGKILLed deligo leaves no embedded server behind', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'deligo-kill-'));
    await fs.chmod(dir, 0o755);
    try {
      const start = spawnTs('runtime/start.ts', [], { DATA_DIR: dir, PORT: '0', HOST: '127.0.0.1', REDIS_URL: '', DATABASE_URL: '' });
      await start.waitFor(/deligo is ready/, 60_000);
      const pids = [await pidFrom(path.join(dir, 'redis', 'redis.pid')), await pidFrom(path.join(dir, 'pg', 'postmaster.pid'))];
      process.kill(start.child.pid!, 'SIGKILL');
      await start.exited;
      // The kernel's parent-death signal stops both servers; nobody ran a shutdown hook.
      await eventually(() => !pids.some(isAlive), 15_000, 'embedded servers to stop after their parent died');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

async function pidFrom(file: string): Promise<number> {
  return Number((await fs.readFile(file, 'utf8')).split('\n')[0]);
}
