import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FALLBACK_MS, prepareBursts } from '../gifts/burst.ts';
import { cancelGift } from '../gifts/manage.ts';
import { reconcileSends } from '../gifts/reconcile.ts';
import { countingProviders, createGiftTestBed, type GiftTestBed } from './support/gifts.ts';

describe('gifts: a burst prepared ahead is sent in batches, exactly once', () => {
  let bed: GiftTestBed;
  const { providers, calls } = countingProviders();
  before(async () => {
    // Bursts from 50 gifts; the scheduled prepare runs every few seconds besides the explicit runs below.
    bed = await createGiftTestBed({ GIFT_BURST_MIN: '50', GIFT_BURST_HORIZON_MS: '60000' });
    await bed.start({ times: 2, providers });
  });
  after(() => bed.platform.cleanup());

  it('batch jobs at the instant with fallbacks behind them, own jobs removed, a gift cancelled after preparing is not sent', async () => {
    const gifts = [];
    // Due about 20 s ahead, to the second: the reservations share one or two instants.
    for (let i = 0; i < 300; i += 100) gifts.push(...(await Promise.all(Array.from({ length: 100 }, () => bed.reserve({}, 20_000)))));
    const counts = new Map<number, number>();
    for (const g of gifts) counts.set(g.send_at.getTime(), (counts.get(g.send_at.getTime()) ?? 0) + 1);
    const at = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
    const onTime = gifts.filter((g) => g.send_at.getTime() === at);
    assert.ok(onTime.length >= 50, `most reservations share the instant (${JSON.stringify([...counts.values()])})`);
    // Several preparations racing (scheduler ticks, two processes) prepare it once.
    const runs = await Promise.all(Array.from({ length: 3 }, () => prepareBursts({ ...bed.platform }, { horizonMs: 60_000, minGifts: 50, leadMs: 500 })));
    const queue = bed.platform.queues.get('gifts');
    const first = await queue.getJob(`burst-${at}-0`);
    assert.ok(first, 'the first batch marks the instant as prepared');
    assert.ok(runs.reduce((n, r) => n + r.gifts, 0) <= gifts.length, 'no gift prepared twice');
    assert.equal(await queue.getJob(onTime[0]!.id), undefined, "a prepared gift's own job is gone (its batch sends it)");
    const reconciled = await reconcileSends(bed.platform, { lookaheadMs: 60_000, graceMs: 10_000, stuckAfterMs: 120_000 });
    assert.equal(reconciled.readded, 0, 'the reconciler leaves a prepared burst to its batches');
    assert.equal(await queue.getJob(onTime[0]!.id), undefined);
    // BullMQ scores a delayed job by its due time × 4096.
    const score = Number(await bed.platform.redis.zscore(queue.keys.delayed!, `burst-${at}-0-fallback`));
    assert.ok(score / 0x1000 >= at + FALLBACK_MS - 1_000, `each batch has a fallback behind it (due ${score / 0x1000 - at} ms after the instant)`);

    const cancelled = onTime.slice(0, 3);
    for (const g of cancelled) assert.equal((await cancelGift(bed.deps, g.id, { sub: 'c-sender', role: 'customer' })).kind, 'ok');
    const rest = gifts.filter((g) => !cancelled.includes(g));
    await Promise.all(rest.map((g) => bed.waitFor(g.id, ['SENT'], 120_000)));
    for (const g of cancelled) assert.equal((await bed.gift(g.id)).status, 'CANCELLED');

    const ids = gifts.map((g) => g.id);
    const received = await bed.platform.db('notification_deliveries').where({ event: 'gift.received' }).whereRaw(`data->>'giftId' = ANY(?)`, [ids]).select('id', 'status');
    assert.equal(received.length, rest.length, 'one message per sent gift, none for the cancelled');
    assert.deepEqual([...new Set(received.map((r) => calls.get(r.id)))], [1], 'each message handed to the provider exactly once');
    const claims = await bed.platform.db('gift_events').whereIn('gift_id', ids).where({ to_status: 'SENDING' }).count<{ count: string }[]>('* as count');
    assert.equal(Number(claims[0]!.count), rest.length, 'each gift claimed once');
    const batches = (await queue.getJobs(['completed'])).filter((j) => j.name === 'gift.send-batch');
    assert.ok(batches.reduce((n, j) => n + (j.returnvalue?.sent ?? 0), 0) >= onTime.length - cancelled.length, 'the batches sent the instant');
  });
});
