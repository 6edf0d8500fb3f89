import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { notify } from '../../notifications/notify.ts';
import { TransientDeliveryError, type NotificationProvider } from '../../notifications/provider.ts';
import { createDevProvider } from '../../notifications/providers/dev.ts';
import { ROOT } from '../support/processes.ts';
import { createGiftTestBed, type GiftTestBed } from '../support/gifts.ts';
import { eventually } from '../support/services.ts';

/** SMS through the development provider, unless the test says the gateway is down. */
let smsDown = false;
const sms: NotificationProvider = {
  channel: 'sms',
  name: 'dev',
  async send(request) {
    if (smsDown) throw new TransientDeliveryError('sms gateway unavailable');
    return createDevProvider('sms').send(request);
  },
};

describe('on Redis Cluster: delayed and retried jobs', () => {
  let bed: GiftTestBed;
  before(async () => {
    bed = await createGiftTestBed({ NOTIFY_BACKOFF_MS: '100' });
    await bed.start({ providers: { push: createDevProvider('push'), sms, email: createDevProvider('email'), kakao: createDevProvider('kakao') } });
  });
  after(() => bed.platform.cleanup());

  const db = () => bed.platform.db;

  it('a scheduled gift is sent on time, exactly once', async () => {
    const gift = await bed.reserve({}, 3_000);
    const sent = await bed.waitFor(gift.id, ['SENT'], 30_000);
    assert.ok(sent.claimed_at!.getTime() >= gift.send_at.getTime() - 5_000, 'not early');
    // Generous: the point is that the delayed job fires from its shard's slot, not a latency figure.
    assert.ok(sent.claimed_at!.getTime() - gift.send_at.getTime() < 15_000, 'sent at its time, not by a later sweep');
    // Let a reconcile and a housekeeping round pass: nothing may send it again.
    await new Promise((r) => setTimeout(r, 2_000));
    const received = await db()('notification_deliveries').where({ event: 'gift.received' }).whereRaw(`data->>'giftId' = ?`, [gift.id]);
    assert.equal(received.length, 1);
    assert.equal(received[0].status, 'sent');
    const events = await db()('gift_events').where({ gift_id: gift.id }).orderBy('id').select('to_status');
    assert.deepEqual(events.map((e) => e.to_status), ['SCHEDULED', 'SENDING', 'SENT']);
    const debits = await db()('credit_ledger').where({ ref_type: 'gift', ref_id: gift.id, kind: 'debit' });
    assert.equal(debits.length, 1);
  });

  it('a notification that fails every attempt is dead-lettered, and `deligo jobs replay` delivers it', async () => {
    const platform = bed.platform;
    smsDown = true;
    const { deliveries } = await notify(platform, {
      event: 'order.cooking',
      recipient: { userId: 'c-cluster', phone: '010-1234-5678' },
      channels: ['sms'],
      data: { orderId: 'o-cluster', restaurantName: '강남 떡볶이', cookMinutes: 15 },
      idempotencyKey: 'order:o-cluster:COOKING',
    });
    const id = deliveries[0]!.id;
    const row = () => db()('notification_deliveries').where({ id }).first();
    await eventually(async () => (await row())?.status === 'failed', 20_000, 'the delivery to fail for good');
    const queue = platform.queues.get('notifySms');
    await eventually(async () => (await queue.getFailed(0, -1)).some((j) => j.id === id), 10_000, 'the dead letter');

    smsDown = false;
    const replay = spawnSync(process.execPath, ['bin/deligo.js', 'jobs', 'replay', '--queue', 'notifications'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, ...platform.childEnv },
    });
    assert.equal(replay.status, 0, replay.stderr);
    assert.match(replay.stdout, /retried 1, skipped 0, errors 0/);
    const sent = await eventually(async () => ((await row())?.status === 'sent' ? row() : undefined), 20_000, 'the replayed delivery to be sent');
    assert.equal(sent.provider_message_id, `dev-${id}`);
  });
});
