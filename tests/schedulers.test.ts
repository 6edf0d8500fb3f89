import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SchedulerDefinition } from '../schedulers/definitions.ts';
import { syncSchedulers } from '../schedulers/sync.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

const defs = (every: number): SchedulerDefinition[] => [
  { id: 'heartbeat', every, job: { queue: 'maintenance', name: 'maintenance.heartbeat', data: { id: 'heartbeat' } } },
  { id: 'nightly', pattern: '0 3 * * *', tz: 'Asia/Seoul', job: { queue: 'gifts', name: 'gifts.noop', data: {} } },
];

describe('scheduler sync', () => {
  let a: TestPlatform;
  let b: TestPlatform;
  before(async () => {
    a = await createTestPlatform();
    // A second process booting with the same prefix: its own connections, same Redis keys.
    b = await createTestPlatform({ QUEUE_PREFIX: a.prefix });
  });
  after(async () => {
    await b.cleanup();
    await a.cleanup();
  });

  it('two concurrent boots leave exactly one scheduler per id', async () => {
    await Promise.all([syncSchedulers(a.queues, defs(15_000), a.logger), syncSchedulers(b.queues, defs(15_000), b.logger)]);
    const maintenance = await a.queues.get('maintenance').getJobSchedulers(0, -1);
    const gifts = await a.queues.get('gifts').getJobSchedulers(0, -1);
    assert.deepEqual(maintenance.map((s) => s.key), ['heartbeat']);
    assert.deepEqual(gifts.map((s) => s.key), ['nightly']);
    assert.equal(gifts[0]!.tz, 'Asia/Seoul');
    // One scheduler means one pending iteration, not one per booting process.
    assert.equal(await a.queues.get('maintenance').getDelayedCount() + (await a.queues.get('maintenance').getWaitingCount()), 1);
  });

  it('a changed definition is updated on the next boot', async () => {
    await syncSchedulers(a.queues, defs(60_000), a.logger);
    const [heartbeat] = await a.queues.get('maintenance').getJobSchedulers(0, -1);
    assert.equal(heartbeat!.every, 60_000);
  });

  it('a removed definition is removed on the next boot', async () => {
    const report = await syncSchedulers(a.queues, defs(60_000).slice(0, 1), a.logger);
    assert.deepEqual(report.removed, ['nightly']);
    assert.equal((await a.queues.get('gifts').getJobSchedulers(0, -1)).length, 0);
  });

  it('rejects a definition with both every and pattern', async () => {
    const bad = [{ id: 'x', every: 1000, pattern: '* * * * *', job: { queue: 'maintenance', name: 'n', data: {} } }] as SchedulerDefinition[];
    await assert.rejects(syncSchedulers(a.queues, bad, a.logger), /exactly one of every or pattern/);
  });
});
