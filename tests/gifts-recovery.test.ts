import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { reconcileSends } from '../gifts/reconcile.ts';
import { startEmbeddedRedis, type EmbeddedRedis } from '../runtime/embedded/redis-server.ts';
import { giftSchedulers } from '../schedulers/definitions.ts';
import { syncSchedulers } from '../schedulers/sync.ts';
import { countingProviders, createGiftTestBed, type GiftTestBed } from './support/gifts.ts';
import { testLogger } from './support/services.ts';

describe('gifts: Postgres is the schedule of record', () => {
  let redis: EmbeddedRedis;
  let bed: GiftTestBed;
  const shared = process.env.TEST_REDIS_URL;
  before(async () => {
    // FLUSHALL for real, on a Redis of this test's own, so no other test loses its keys.
    redis = await startEmbeddedRedis({ dir: path.join(process.env.TEST_DATA_DIR ?? '.data', `gifts-flush-${randomUUID().slice(0, 8)}`), logger: testLogger(), ephemeral: true });
    process.env.TEST_REDIS_URL = redis.url;
    bed = await createGiftTestBed();
    process.env.TEST_REDIS_URL = shared;
    await bed.start();
  });
  after(async () => {
    await bed.platform.cleanup();
    await redis.stop();
  });

  it('FLUSHALL before the due time: the reconciler restores the job and the gift is still sent within a minute', async () => {
    const due = await bed.reserve({}, 6_000);
    const overdue = await bed.reserve({}, 2_000);
    assert.ok(await bed.platform.queues.get('gifts').getJob(due.id));
    // Redis loses everything: the delayed jobs and the Job Schedulers too.
    await bed.platform.redis.flushall();
    assert.equal(await bed.platform.queues.get('gifts').getJob(due.id), undefined);
    // Down past one gift's due time; then recovery runs the scheduler sync, as every (re)start does.
    await new Promise((r) => setTimeout(r, 2_500));
    await syncSchedulers(bed.platform.queues, giftSchedulers(bed.platform.config.gifts), bed.platform.logger);
    const [sentDue, sentOverdue] = await Promise.all([bed.waitFor(due.id, ['SENT'], 60_000), bed.waitFor(overdue.id, ['SENT'], 60_000)]);
    const lateness = (g: typeof sentDue, planned: Date) => g.claimed_at!.getTime() - planned.getTime();
    assert.ok(lateness(sentDue, due.send_at) < 60_000, `due gift ${lateness(sentDue, due.send_at)} ms late`);
    assert.ok(lateness(sentOverdue, overdue.send_at) < 60_000, `overdue gift ${lateness(sentOverdue, overdue.send_at)} ms late`);
    process.stdout.write(`# after FLUSHALL: due gift sent ${lateness(sentDue, due.send_at)} ms late, overdue gift ${lateness(sentOverdue, overdue.send_at)} ms late\n`);
  });
});

describe('gifts: two workers plus the reconciler send each gift exactly once', () => {
  let bed: GiftTestBed;
  const { providers, calls } = countingProviders();
  before(async () => {
    bed = await createGiftTestBed();
    await bed.start({ times: 2, providers });
  });
  after(() => bed.platform.cleanup());

  it('300 gifts due at the same second, two gift workers, the reconciler every second and extra reconciler runs', async () => {
    const gifts = [];
    for (let i = 0; i < 300; i += 50) gifts.push(...(await Promise.all(Array.from({ length: 50 }, () => bed.reserve({}, 3_000)))));
    const dueAt = Math.max(...gifts.map((g) => g.send_at.getTime()));
    await new Promise((r) => setTimeout(r, Math.max(0, dueAt - Date.now())));
    // Reconciler runs racing the sends, as if several scheduler ticks overlapped.
    await Promise.all(Array.from({ length: 4 }, () => reconcileSends(bed.platform, { lookaheadMs: 5_000, graceMs: 0, stuckAfterMs: 0 })));
    const final = await Promise.all(gifts.map((g) => bed.waitFor(g.id, ['SENT'], 60_000)));
    assert.equal(final.length, 300);
    const ids = gifts.map((g) => g.id);
    const received = await bed.platform.db('notification_deliveries').where({ event: 'gift.received' }).whereRaw(`data->>'giftId' = ANY(?)`, [ids]).select('id', 'status');
    assert.equal(received.length, 300, 'one delivery per gift');
    assert.ok(received.every((r) => r.status === 'sent'));
    assert.deepEqual([...new Set(received.map((r) => calls.get(r.id)))], [1], 'each message handed to the provider exactly once');
    const claims = await bed.platform.db('gift_events').whereIn('gift_id', ids).where({ to_status: 'SENDING' }).count<{ count: string }[]>('* as count');
    assert.equal(claims[0]!.count, '300', 'each gift claimed once');
    const codes = new Set(final.map((g) => g.code));
    assert.equal(codes.size, 300, 'codes unique');
  });
});
