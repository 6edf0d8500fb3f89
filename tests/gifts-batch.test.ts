import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { unrecordedSentGifts } from '../db/gift-held-sends-repository.ts';
import { claimGifts } from '../db/gift-sends-repository.ts';
import { generateGiftCodes } from '../domain/gifts/gift-code.ts';
import { newLinkTokens } from '../domain/gifts/link-token.ts';
import { getGift, giftEvents } from '../db/gifts-repository.ts';
import { cancelGift } from '../gifts/manage.ts';
import { presentGift } from '../gifts/present.ts';
import { reconcileSends } from '../gifts/reconcile.ts';
import { sendHeld } from '../gifts/direct-delivery.ts';
import { createGiftSender } from '../gifts/sender.ts';
import type { NotificationProvider } from '../notifications/provider.ts';
import { countingProviders, createGiftTestBed, type GiftTestBed } from './support/gifts.ts';
import { eventually } from './support/services.ts';

/**
 * Batches of a burst (gifts/burst.ts) as the gift worker runs them: a batch that died half-way,
 * a batch run twice at once, a cancel racing the claim. The assertions are the invariants (one
 * message per sent gift, one "발송 완료" per sender notice, refunded xor sent), not who won.
 */
describe('gifts: burst batches resume, race and tell the senders', () => {
  let bed: GiftTestBed;
  const { providers, calls } = countingProviders();
  const owner = { sub: 'c-sender', role: 'customer' as const };
  before(async () => {
    bed = await createGiftTestBed();
    await bed.start({ times: 2, providers });
  });
  after(() => bed.platform.cleanup());

  const db = () => bed.platform.db;
  const secrets = (n: number) => ({ codes: generateGiftCodes(n), tokens: newLinkTokens(n) });
  /** Reserved well ahead (so their own jobs stay quiet), then made due now in the record. */
  const dueNow = async (n: number) => {
    const gifts = await Promise.all(Array.from({ length: n }, () => bed.reserve({}, 60_000)));
    const ids = gifts.map((g) => g.id);
    await db()('gifts').whereIn('id', ids).update({ send_at: db().raw(`now() - interval '1 second'`) });
    return ids;
  };
  const deliveries = (ids: string[], event: string) => db()('notification_deliveries').where({ event }).whereRaw(`data->>'giftId' = ANY(?)`, [ids]).select('id', 'status', 'data');

  it('a batch that died after its claim is resumed; run twice at once, every gift goes out once and its sender is told once', async () => {
    const ids = await dueNow(40);
    const [dead, fresh] = [ids.slice(0, 20), ids.slice(20)];
    // The batch that died: its claim committed, nothing after it (no delivery row, no message).
    const { claimed } = await claimGifts(db(), dead, { extra: 0, earlyToleranceMs: 5_000, secrets });
    assert.equal(claimed.length, 20);
    await db()('gifts').whereIn('id', dead).update({ claimed_at: db().raw(`now() - interval '3 minutes'`) });

    // Its retry and its fallback, at once, each with its own sender (as in two processes).
    const runs = await Promise.all([1, 2].map(() => createGiftSender(bed.deps, { providers }).sendMany(ids)));
    for (const outcomes of runs) assert.equal(outcomes.length, ids.length);
    // The gifts claimed now went out directly: SENT, and their senders told, when the batch returns.
    const now = await db()('gifts').whereIn('id', fresh).select('status');
    assert.deepEqual([...new Set(now.map((g) => g.status))], ['SENT']);
    assert.deepEqual([...new Set((await deliveries(fresh, 'gift.sent')).map((d) => d.status))], ['sent']);

    // The dead batch's gifts go on through the notification queue and the settle sweep.
    await Promise.all(ids.map((id) => bed.waitFor(id, ['SENT'], 60_000)));
    const received = await deliveries(ids, 'gift.received');
    assert.equal(received.length, ids.length, 'one message per gift');
    assert.deepEqual([...new Set(received.map((r) => calls.get(r.id)))], [1], 'each message handed to the provider exactly once');
    const notices = await waitForNotices(ids);
    assert.equal(notices.length, ids.length, 'one 발송 완료 per gift');
    const claims = await db()('gift_events').whereIn('gift_id', ids).where({ to_status: 'SENDING' }).count<{ count: string }[]>('* as count');
    assert.equal(Number(claims[0]!.count), ids.length, 'each gift claimed once');
    const sentSteps = await db()('gift_events').whereIn('gift_id', ids).where({ to_status: 'SENT' }).count<{ count: string }[]>('* as count');
    assert.equal(Number(sentSteps[0]!.count), ids.length, 'each gift SENT once');

    // A third run later sends nothing more.
    await createGiftSender(bed.deps, { providers }).sendMany(ids);
    assert.equal((await deliveries(ids, 'gift.received')).length, ids.length);
    assert.deepEqual([...new Set((await deliveries(ids, 'gift.received')).map((r) => calls.get(r.id)))], [1]);
  });

  it('a cancel racing a batch claim: each gift ends cancelled and refunded, or sent — never both; a held gift does not hold up the batch', async () => {
    const ids = await dueNow(30);
    const held = ids.slice(0, 10);
    // Another transaction holds ten of the rows (as a cancel does between its read and its commit).
    const trx = await db().transaction();
    await trx('gifts').whereIn('id', held).forUpdate().select('id');
    // The other twenty race the batch (a cancel of a held row would wait for it, holding a connection).
    const cancelling = Promise.all(ids.filter((id) => !held.includes(id)).map((id) => cancelGift(bed.deps, id, owner)));
    const outcomes = await createGiftSender(bed.deps, { providers }).sendMany(ids);
    for (const [i, id] of ids.entries()) if (held.includes(id)) assert.ok('skipped' in outcomes[i]!, 'a held gift is skipped, not waited for');
    await trx.rollback();
    const cancels = [...(await cancelling), ...(await Promise.all(held.map((id) => cancelGift(bed.deps, id, owner))))];
    for (const c of cancels) assert.ok(c.kind === 'ok' || c.kind === 'conflict', `cancel answered ${c.kind}`);
    const final = await Promise.all(ids.map((id) => bed.waitFor(id, ['SENT', 'CANCELLED'], 60_000)));
    // Once released, a held gift is due for anyone: its cancel, or a claim that takes other due
    // gifts besides its own (a single-gift job the reconciler added). Either may win; the answer
    // its cancel got says which.
    for (const [i, id] of held.entries()) {
      const status = final.find((g) => g.id === id)!.status;
      assert.equal(status, cancels[ids.length - held.length + i]!.kind === 'ok' ? 'CANCELLED' : 'SENT', 'a released gift is cancelled if its cancel said so, else sent');
    }
    const received = await deliveries(ids, 'gift.received');
    const refunds = await db()('credit_ledger').where({ ref_type: 'gift', kind: 'refund' }).whereIn('ref_id', ids).select('ref_id');
    for (const gift of final) {
      const messages = received.filter((r) => r.data.giftId === gift.id);
      const refunded = refunds.filter((r) => r.ref_id === gift.id).length;
      if (gift.status === 'SENT') assert.deepEqual([messages.length, refunded], [1, 0], `sent gift ${gift.id}: one message, no refund`);
      else assert.deepEqual([messages.length, refunded], [0, 1], `cancelled gift ${gift.id}: no message, refunded once`);
    }
    process.stdout.write(`# batch vs cancel: ${JSON.stringify(Object.fromEntries(['SENT', 'CANCELLED'].map((s) => [s, final.filter((g) => g.status === s).length])))}\n`);
  });

  it('a cancel arriving while a send holds the gifts waits for it and then finds them sent; no refund, one message', async () => {
    const ids = await dueNow(5);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const called = new Promise<void>((resolve) => (entered = resolve));
    // The provider is reached with the gifts' row locks held; it waits until the cancels are under way.
    const gated = { ...providers, kakao: { ...providers.kakao, async send(request: Parameters<NotificationProvider['send']>[0]) { entered(); await gate; return providers.kakao.send(request); } } };
    const sending = createGiftSender(bed.deps, { providers: gated }).sendMany(ids);
    await Promise.race([called, new Promise((r) => setTimeout(r, 10_000))]);
    const cancelling = Promise.all(ids.map((id) => cancelGift(bed.deps, id, owner)));
    await new Promise((r) => setTimeout(r, 300));
    release();
    await sending;
    const cancels = await cancelling;
    const final = await db()('gifts').whereIn('id', ids).select('id', 'status');
    const refunds = await db()('credit_ledger').where({ ref_type: 'gift', kind: 'refund' }).whereIn('ref_id', ids).select('ref_id');
    const received = await deliveries(ids, 'gift.received');
    for (const gift of final) {
      const messages = received.filter((r) => r.data.giftId === gift.id).length;
      const refunded = refunds.filter((r) => r.ref_id === gift.id).length;
      const cancel = cancels[ids.indexOf(gift.id)]!;
      if (gift.status === 'SENT') assert.deepEqual([messages, refunded, cancel.kind], [1, 0, 'conflict'], `sent gift ${gift.id}: one message, no refund, the cancel refused`);
      else assert.deepEqual([gift.status, messages, refunded, cancel.kind], ['CANCELLED', 0, 1, 'ok'], `cancelled gift ${gift.id}: no message, refunded once`);
    }
  });

  it('a send that dies before its commit leaves its gifts SCHEDULED; sent again, each goes out under the same delivery id and is on record once', async () => {
    const ids = await dueNow(10);
    const direct = { ...bed.deps, providers };
    // Every gift drawn the same code: the record statement fails after the provider calls, as a
    // crash between the calls and the commit would end it.
    const clash = (n: number) => ({ codes: Array<string>(n).fill(generateGiftCodes(1)[0]!), tokens: newLinkTokens(n) });
    await assert.rejects(sendHeld(direct, ids, { extra: 0, earlyToleranceMs: 5_000, secrets: clash }));
    const after = await db()('gifts').whereIn('id', ids).select('status', 'code', 'claimed_at');
    assert.deepEqual([...new Set(after.map((g) => `${g.status}/${g.code}/${g.claimed_at}`))], ['SCHEDULED/null/null'], 'nothing on record');
    assert.equal((await deliveries(ids, 'gift.received')).length, 0);
    const history = await db()('gift_events').whereIn('gift_id', ids).whereNot({ to_status: 'SCHEDULED' }).count<{ count: string }[]>('* as count');
    assert.equal(Number(history[0]!.count), 0, 'no history step written');

    const outcomes = await createGiftSender(bed.deps, { providers }).sendMany(ids);
    assert.equal(outcomes.filter((o) => 'sent' in o).length, ids.length);
    const received = await deliveries(ids, 'gift.received');
    assert.equal(received.length, ids.length, 'one message record per gift');
    assert.deepEqual([...new Set(received.map((r) => r.status))], ['sent']);
    // The provider saw each message twice, under one delivery id: the id it deduplicates by.
    assert.deepEqual([...new Set(received.map((r) => calls.get(r.id)))], [2]);
    const steps = await db()('gift_events').whereIn('gift_id', ids).select('gift_id', 'to_status').orderBy('id');
    for (const id of ids) assert.deepEqual(steps.filter((e) => e.gift_id === id).map((e) => e.to_status), ['SCHEDULED', 'SENDING', 'SENT']);
  });

  it('a send whose process dies after its commit, before its record: SENT and shown so, cancel refused; a retried job writes the record once without sending again', async () => {
    const ids = await dueNow(8);
    const direct = { ...bed.deps, providers };
    // The critical part alone: the gifts are SENT on record, their record was never written.
    const { delivered } = await sendHeld(direct, ids, { extra: 0, earlyToleranceMs: 5_000, secrets });
    assert.equal(delivered.length, ids.length);
    assert.deepEqual([...new Set((await db()('gifts').whereIn('id', ids).select('status')).map((g) => g.status))], ['SENT']);
    assert.equal((await deliveries(ids, 'gift.received')).length, 0, 'no record yet');
    // Meanwhile the sender sees the truth: SENT, with the send's steps, and a cancel is refused with no refund.
    const gift = (await getGift(db(), ids[0]!))!;
    const view = presentGift(gift, { modifyCutoffMs: 3_600_000, events: await giftEvents(db(), gift.id) });
    assert.deepEqual([view.status, view.history!.map((h) => h.to)], ['SENT', ['SCHEDULED', 'SENDING', 'SENT']]);
    const cancel = await cancelGift(bed.deps, ids[0]!, owner);
    assert.equal(cancel.kind, 'conflict');
    // A first run (a fallback batch) leaves a young record to the process that may still write it.
    await createGiftSender(bed.deps, { providers }).sendMany(ids);
    assert.equal((await deliveries(ids, 'gift.received')).length, 0, 'not written by a first run');
    // The retried job (its first run died) writes it, twice at once as two processes would, once in all.
    await Promise.all([1, 2].map(() => createGiftSender(bed.deps, { providers }).sendMany(ids, { resume: true })));
    await createGiftSender(bed.deps, { providers }).sendMany(ids, { resume: true });
    const received = await deliveries(ids, 'gift.received');
    assert.equal(received.length, ids.length, 'one message record per gift');
    assert.deepEqual([...new Set(received.map((r) => r.status))], ['sent']);
    assert.deepEqual([...new Set(received.map((r) => calls.get(r.id)))], [1], 'each message handed to the provider once: the record does not send again');
    const rows = await db()('gifts').whereIn('id', ids).select('id', 'delivery_id', 'status');
    for (const g of rows) assert.ok(received.some((r) => r.id === g.delivery_id), 'the record is the delivery the gift names');
    const steps = await db()('gift_events').whereIn('gift_id', ids).select('gift_id', 'to_status').orderBy('id');
    for (const id of ids) assert.deepEqual(steps.filter((e) => e.gift_id === id).map((e) => e.to_status), ['SCHEDULED', 'SENDING', 'SENT']);
    assert.equal((await waitForNotices(ids)).length, ids.length, 'one 발송 완료 per gift');
    assert.equal((await deliveries(ids, 'gift.sent')).length, ids.length);
    const refunds = await db()('credit_ledger').where({ ref_type: 'gift', kind: 'refund' }).whereIn('ref_id', ids).count<{ count: string }[]>('* as count');
    assert.equal(Number(refunds[0]!.count), 0, 'no refund for a sent gift');
  });

  it('a record lost for good (every attempt failed, or its job went with Redis) is found by the reconciler and written once, without sending again', async () => {
    const ids = await dueNow(6);
    // The critical part alone, then nothing: no job is left that would write the record.
    const { delivered } = await sendHeld({ ...bed.deps, providers }, ids, { extra: 0, earlyToleranceMs: 5_000, secrets });
    assert.equal(delivered.length, ids.length);
    await db()('gifts').whereIn('id', ids).update({ sent_at: db().raw(`now() - interval '3 minutes'`), claimed_at: db().raw(`now() - interval '3 minutes'`) });
    // Their own delayed jobs gone too, as with a Redis that lost its data.
    for (const id of ids) await bed.platform.queues.get('gifts').remove(id);
    const lost = (await unrecordedSentGifts(db(), { from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() - 120_000), limit: 1_000 })).map((g) => g.id);
    assert.deepEqual(ids.filter((id) => !lost.includes(id)), [], 'every lost record is in view');

    // Run from two processes at once, as the scheduler may be.
    const runs = await Promise.all([1, 2].map(() => reconcileSends(bed.platform, { lookaheadMs: 5_000, graceMs: 10_000, stuckAfterMs: 120_000 })));
    // Between them they re-add every gift (the two runs may split the gifts, or both add the same
    // job ids, which BullMQ keeps once).
    assert.ok(runs.reduce((n, r) => n + r.readded, 0) >= ids.length, `readded ${runs.map((r) => r.readded).join(', ')}`);
    await eventually(async () => (await deliveries(ids, 'gift.received')).length === ids.length || undefined, 60_000, 'the records written');
    assert.equal((await waitForNotices(ids)).length, ids.length, 'one 발송 완료 per gift');
    const received = await deliveries(ids, 'gift.received');
    assert.deepEqual([...new Set(received.map((r) => calls.get(r.id)))], [1], 'each message handed to the provider once: the record does not send again');
    const steps = await db()('gift_events').whereIn('gift_id', ids).select('gift_id', 'to_status').orderBy('id');
    for (const id of ids) assert.deepEqual(steps.filter((e) => e.gift_id === id).map((e) => e.to_status), ['SCHEDULED', 'SENDING', 'SENT']);
    // Recorded now: out of the reconciler's view.
    const still = (await unrecordedSentGifts(db(), { from: new Date(Date.now() - 3_600_000), to: new Date(), limit: 1_000 })).map((g) => g.id);
    assert.deepEqual(ids.filter((id) => still.includes(id)), []);
  });

  async function waitForNotices(ids: string[]) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const rows = (await deliveries(ids, 'gift.sent')).filter((d) => d.status === 'sent');
      if (rows.length >= ids.length || Date.now() > deadline) return rows;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
});

describe('gifts: a sender notice that fails in the batch goes on through the push queue', () => {
  let bed: GiftTestBed;
  // Push refuses the first attempt of every delivery, then accepts.
  const { providers, calls: tries } = countingProviders('push', { failFirst: () => true });
  before(async () => {
    bed = await createGiftTestBed();
    await bed.start({ providers });
  });
  after(() => bed.platform.cleanup());

  it('the gift is SENT when the batch returns and its sender is told once, on the retry', async () => {
    const gifts = await Promise.all(Array.from({ length: 5 }, () => bed.reserve({}, 60_000)));
    const ids = gifts.map((g) => g.id);
    const db = bed.platform.db;
    await db('gifts').whereIn('id', ids).update({ send_at: db.raw(`now() - interval '1 second'`) });
    await createGiftSender(bed.deps, { providers }).sendMany(ids);
    assert.deepEqual([...new Set((await db('gifts').whereIn('id', ids).select('status')).map((g) => g.status))], ['SENT']);
    const notices = () => db('notification_deliveries').where({ event: 'gift.sent' }).whereRaw(`data->>'giftId' = ANY(?)`, [ids]).select('id', 'status');
    await eventually(async () => (await notices()).filter((n) => n.status === 'sent').length === ids.length, 30_000, 'every sender told');
    const rows = await notices();
    assert.equal(rows.length, ids.length, 'one notice per gift');
    for (const r of rows) assert.equal(tries.get(r.id), 2, 'refused once in the batch, sent once by the push queue');
  });
});
