import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestPlatform, eventually, type TestPlatform } from './support/services.ts';
import { killSpawned, spawnTs, type Spawned } from './support/processes.ts';

const FIXTURE = 'tests/fixtures/sleepy-worker.ts';

describe('worker processes', () => {
  after(killSpawned);
  let platform: TestPlatform;
  let env: Record<string, string>;
  before(async () => {
    platform = await createTestPlatform();
    env = platform.childEnv;
  });
  after(() => platform.cleanup());

  const done = () => platform.redis.lrange(`${platform.prefix}:done`, 0, -1);
  const start = async (extra: Record<string, string> = {}): Promise<Spawned> => {
    const worker = spawnTs(FIXTURE, [], { ...env, ...extra });
    await worker.waitFor(/READY/);
    return worker;
  };

  it('SIGTERM lets the active job finish, then the process exits cleanly', async () => {
    const worker = await start();
    const queue = platform.queues.get('maintenance');
    const job = await queue.add('test.sleep', { ms: 1_500, mark: 'long' });
    await eventually(async () => (await job.getState()) === 'active', 10_000, 'job to become active');
    process.kill(worker.child.pid!, 'SIGTERM');
    const { code } = await worker.exited;
    assert.equal(code, 0, worker.output());
    assert.equal(await job.getState(), 'completed', 'the job finished instead of being abandoned');
    assert.deepEqual((await done()).map((d) => d.split('|')[1]), ['long']);
    assert.match(worker.output(), /pool closed/);
  });

  it('two processes running the same pool share one queue', async () => {
    await platform.redis.del(`${platform.prefix}:done`);
    const workers = [await start({ CONCURRENCY: '2' }), await start({ CONCURRENCY: '2' })];
    const queue = platform.queues.get('maintenance');
    await queue.addBulk(Array.from({ length: 40 }, (_, i) => ({ name: 'test.sleep', data: { ms: 40, mark: String(i) } })));
    const finished = await eventually(async () => {
      const list = await done();
      return list.length === 40 ? list : undefined;
    }, 20_000, '40 jobs done');
    const byWorker = new Map<string, number>();
    for (const entry of finished) {
      const worker = entry.split('|')[0]!;
      byWorker.set(worker, (byWorker.get(worker) ?? 0) + 1);
    }
    assert.equal(byWorker.size, 2, `both processes took work: ${JSON.stringify([...byWorker])}`);
    assert.deepEqual(new Set(finished.map((e) => e.split('|')[1])).size, 40, 'each job ran exactly once');
    for (const w of workers) process.kill(w.child.pid!, 'SIGTERM');
    for (const w of workers) assert.equal((await w.exited).code, 0);
  });

  it('refuses to run workers on a Redis that may evict jobs', async () => {
    await platform.redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const worker = spawnTs('workers/main.ts', ['--pools', 'maintenance'], env);
      const { code } = await worker.exited;
      assert.equal(code, 1);
      assert.match(worker.output(), /maxmemory-policy is "allkeys-lru", but deligo workers need "noeviction"/);
    } finally {
      await platform.redis.config('SET', 'maxmemory-policy', 'noeviction');
    }
  });

  it('an unknown pool name stops start-up with the list of valid ones', async () => {
    const worker = spawnTs('workers/main.ts', ['--pools', 'locaton'], env);
    const { code } = await worker.exited;
    assert.equal(code, 1);
    assert.match(worker.output(), /unknown pool "locaton": expected location, dispatch/);
  });
});
