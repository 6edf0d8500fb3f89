import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findGiftByToken, updateGift } from '../db/gifts-repository.ts';
import { cancelGift } from '../gifts/manage.ts';
import { openGift } from '../gifts/recipient.ts';
import { createGiftSender } from '../gifts/sender.ts';
import { stageBurst } from '../gifts/stage.ts';
import { countingProviders, createGiftTestBed, type GiftTestBed } from './support/gifts.ts';
import { eventually } from './support/services.ts';

/**
 * A burst's sends staged ahead (gifts/stage.ts) and sent from the stage at the instant
 * (gifts/staged-delivery.ts): what was staged is what goes out, a staged code or link is of no use
 * before the send, a cancel or a change after the staging wins cleanly, a message that fails at the
 * instant is retried like any other, and everything happens once.
 */
describe('gifts: staged sends', () => {
  let bed: GiftTestBed;
  const failOnce = new Set<string>();
  const { providers, calls } = countingProviders('kakao', { failFirst: (request) => !!request.recipient.phone && failOnce.has(request.recipient.phone) });
  const owner = { sub: 'c-sender', role: 'customer' as const };
  before(async () => {
    // The reconciler rarely: a job it re-adds for the cancelled gift would take the other due gifts
    // the ordinary way (legitimately, but then there is less of the staged path to look at).
    bed = await createGiftTestBed({ GIFT_RECONCILE_MS: '600000' });
    await bed.start({ providers });
  });
  after(() => bed.platform.cleanup());

  it('sends what was staged, once; a cancel, a change and a failed first attempt after the staging each end right', async () => {
    const db = bed.platform.db;
    const gifts = await Promise.all(Array.from({ length: 12 }, () => bed.reserve({}, 60_000)));
    const ids = gifts.map((g) => g.id);
    // One instant, just past (their own jobs, a minute ahead, find them sent).
    const at = new Date(Math.floor(Date.now() / 1_000) * 1_000 - 1_000);
    await db('gifts').whereIn('id', ids).update({ send_at: at });
    assert.equal(await stageBurst(bed.platform, ids, at.getTime(), Date.now() + 60_000), ids.length);
    assert.equal(await stageBurst(bed.platform, ids, at.getTime(), Date.now() + 60_000), 0, 'staging again adds nothing');
    const stage = new Map((await db('gift_staged_sends').whereIn('gift_id', ids).select('*')).map((s) => [s.gift_id, s]));

    // Staged codes and links are of no use before the send.
    const first = stage.get(ids[0]!)!;
    assert.equal(await findGiftByToken(db, first.link_token), undefined, 'a staged link token names no gift');
    assert.equal((await openGift(bed.deps, first.link_token)).kind, 'not-found');
    assert.equal(await db('gifts').where({ code: first.code }).first('id'), undefined, 'a staged code names no gift');

    const [cancelled, changed, flaky] = [ids[1]!, ids[2]!, ids[3]!];
    assert.equal((await cancelGift(bed.deps, cancelled, owner)).kind, 'ok');
    const old = gifts[2]!;
    await db.transaction((trx) => updateGift(trx, changed, { status: ['SCHEDULED'], version: old.version, set: { recipient_name: '새수신자' }, actor: 'user:c-sender', reason: 'changed recipient' }));
    failOnce.add(gifts[3]!.recipient_phone!);

    const outcomes = await createGiftSender(bed.deps, { providers }).sendMany(ids);
    assert.ok('skipped' in outcomes[1]!, 'the cancelled gift is not sent');

    const rest = ids.filter((id) => id !== cancelled);
    const final = await Promise.all(rest.map((id) => bed.waitFor(id, ['SENT'], 60_000)));
    // The gifts are due, so a single-gift job of the running workers (one the reconciler re-added
    // for the cancelled gift, say) may take some of them the ordinary way first, legitimately: the
    // staged assertions are about the gifts this batch sent.
    const ours = new Set(ids.filter((_, i) => 'sent' in outcomes[i]!));
    for (const g of final) {
      const s = stage.get(g.id)!;
      if (g.id === changed) {
        assert.notEqual(g.link_token, s.link_token, 'a gift changed after its staging is sent the ordinary way');
        const message = await db('notification_deliveries').where({ id: g.delivery_id }).first();
        assert.equal(message.recipient.name, '새수신자', 'with its new recipient');
      } else if (ours.has(g.id)) {
        assert.deepEqual([g.code, g.link_token, g.delivery_id], [s.code, s.link_token, s.delivery_id], `gift ${g.id} went out as staged`);
        assert.equal(g.expires_at!.getTime(), new Date(s.expires_at).getTime());
      }
    }
    assert.ok(ours.size > 0, 'the batch sent gifts from their stages');
    if (ours.has(ids[0]!)) assert.equal((await openGift(bed.deps, first.link_token)).kind, 'ok', 'the staged link works once its gift is SENT');
    assert.equal((await bed.gift(cancelled)).status, 'CANCELLED');
    assert.equal((await db('credit_ledger').where({ ref_type: 'gift', kind: 'refund', ref_id: cancelled }).select('id')).length, 1, 'the cancel refunded once');

    const received = await db('notification_deliveries').where({ event: 'gift.received' }).whereRaw(`data->>'giftId' = ANY(?)`, [ids]).select('*');
    assert.equal(received.length, rest.length, 'one message per sent gift, none for the cancelled one');
    for (const r of received) assert.equal(r.status, 'sent');
    const flakyMessage = received.find((r) => r.data.giftId === flaky)!;
    assert.deepEqual([flakyMessage.attempts, calls.get(flakyMessage.id)], [2, 2], 'a message that failed at the instant was retried once through the queue');
    for (const r of received.filter((r) => r.data.giftId !== flaky)) assert.equal(calls.get(r.id), 1, 'every other message handed over once');
    for (const id of rest) {
      const steps = (await db('gift_events').where({ gift_id: id }).orderBy('id').select('to_status')).map((e) => e.to_status);
      assert.deepEqual(steps.filter((s) => s === 'SENDING' || s === 'SENT'), ['SENDING', 'SENT'], `gift ${id}: SENDING and SENT once each`);
    }
    const notices = await eventually(async () => {
      const rows = await db('notification_deliveries').where({ event: 'gift.sent', status: 'sent' }).whereRaw(`data->>'giftId' = ANY(?)`, [ids]).select('data', 'sent_at');
      return rows.length === rest.length ? rows : undefined;
    }, 30_000, 'every sender told');
    assert.equal(new Set(notices.map((n) => n.data.giftId)).size, rest.length, 'one 발송 완료 per sent gift');
    assert.equal(await db('gift_staged_sends').whereIn('gift_id', rest.filter((id) => id !== changed && id !== flaky)).first('gift_id'), undefined, 'a recorded staged send is gone');

    // A second run of the batch (its fallback) sends nothing more.
    await createGiftSender(bed.deps, { providers }).sendMany(ids);
    assert.equal((await db('notification_deliveries').where({ event: 'gift.received' }).whereRaw(`data->>'giftId' = ANY(?)`, [ids]).select('id')).length, rest.length);
  });
});
