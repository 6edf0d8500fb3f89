import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { notify } from '../notifications/notify.ts';
import { killSpawned, spawnTs } from './support/processes.ts';
import { startProviderStandIn } from './support/provider-stand-in.ts';
import { createTestPlatform, eventually, type TestPlatform } from './support/services.ts';

describe('a worker killed mid-send', () => {
  after(killSpawned);
  let platform: TestPlatform;
  let gateway: Awaited<ReturnType<typeof startProviderStandIn>>;
  before(async () => {
    platform = await createTestPlatform();
    // The first request hangs (the worker dies while waiting); the retry is answered.
    gateway = await startProviderStandIn((_req, seen) => (seen === 0 ? 'hang' : 200));
  });
  after(async () => {
    await gateway.close();
    await platform.cleanup();
  });

  it('is retried by another worker, and the delivery is recorded exactly once', async () => {
    const env = { ...platform.childEnv, SMS_HTTP_URL: gateway.url };
    const first = spawnTs('workers/main.ts', ['--pools', 'notifications'], env);
    await first.waitFor(/workers ready/);
    const { deliveries } = await notify(platform, {
      event: 'order.delivered',
      recipient: { phone: '01055556666' },
      channels: ['sms'],
      data: { orderId: 'o-kill' },
      idempotencyKey: 'order:o-kill:DELIVERED',
    });
    const id = deliveries[0]!.id;
    await eventually(() => gateway.requests.length === 1, 10_000, 'the first send to reach the gateway');
    process.kill(first.child.pid!, 'SIGKILL');
    await first.exited;

    const second = spawnTs('workers/main.ts', ['--pools', 'notifications'], env);
    try {
      // The killed worker's lock expires and the job comes back as stalled (lockDuration 10 s).
      const row = await eventually(async () => {
        const r = await platform.db('notification_deliveries').where({ id }).first();
        return r?.status === 'sent' ? r : undefined;
      }, 40_000, 'the retried send');
      assert.equal(row.attempts, 2, 'one attempt died with the worker, the second delivered');
      assert.equal(gateway.requests.length, 2);
      assert.deepEqual(new Set(gateway.requests.map((r) => r.idempotencyKey)), new Set([id]), 'both attempts carried the same idempotency key');
      assert.equal(await platform.db('notification_deliveries').where({ idempotency_key: 'order:o-kill:DELIVERED' }).count('* as n').first().then((r) => Number(r!.n)), 1);
      // Finished notification jobs are removed at once; the delivery row is their record.
      await eventually(async () => !(await platform.queues.get('notifySms').getJob(id)), 5_000, 'the finished job to be removed');
    } finally {
      process.kill(second.child.pid!, 'SIGTERM');
      await second.exited;
    }
  });
});
