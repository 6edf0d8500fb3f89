import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseGiftCode } from '../domain/gifts/gift-code.ts';
import { createDevProvider } from '../notifications/providers/dev.ts';
import { TransientDeliveryError, type NotificationProvider } from '../notifications/provider.ts';
import { cancelGift } from '../gifts/manage.ts';
import { createGiftTestBed, type GiftTestBed } from './support/gifts.ts';
import { eventually } from './support/services.ts';

/** KakaoTalk through the development provider, except one number that never gets through. */
const UNREACHABLE = '010-9999-9999';
const flakyKakao: NotificationProvider = {
  channel: 'kakao',
  name: 'dev',
  async send(request) {
    if (request.recipient.phone === UNREACHABLE) throw new TransientDeliveryError('kakao gateway timeout');
    return createDevProvider('kakao').send(request);
  },
};

describe('gifts: sending, delivery outcome and races', () => {
  let bed: GiftTestBed;
  const sender = { sub: 'c-sender', role: 'customer' as const };
  before(async () => {
    bed = await createGiftTestBed();
    await bed.start({ providers: { push: createDevProvider('push'), sms: createDevProvider('sms'), email: createDevProvider('email'), kakao: flakyKakao } });
  });
  after(() => bed.platform.cleanup());

  const db = () => bed.platform.db;
  const deliveriesOf = (giftId: string, event: string) => db()('notification_deliveries').where({ event }).whereRaw(`data->>'giftId' = ?`, [giftId]).select('*');
  const ledger = (giftId: string) => db()('credit_ledger').where({ ref_type: 'gift', ref_id: giftId }).orderBy('id').select('kind', 'amount');

  it('sends at the send time: code, link, SENT, the sender told', async () => {
    const gift = await bed.reserve();
    const sent = await bed.waitFor(gift.id, ['SENT']);
    assert.ok(sent.claimed_at!.getTime() >= gift.send_at.getTime() - 5_000, 'not early');
    assert.ok(sent.claimed_at!.getTime() - gift.send_at.getTime() < 5_000, `on time: ${sent.claimed_at!.getTime() - gift.send_at.getTime()} ms late`);
    assert.equal(parseGiftCode(sent.code!).ok, true);
    assert.match(sent.link_token!, /^[A-Za-z0-9_-]{22}$/);
    const [received] = await deliveriesOf(gift.id, 'gift.received');
    assert.equal(received.status, 'sent');
    assert.equal(received.channel, 'kakao');
    assert.ok(received.data.link.endsWith(`/g/${sent.link_token}`));
    assert.match(received.detail.body, /이준호님이 스타벅스 아메리카노 Tall을\(를\) 보냈어요/);
    await eventually(async () => (await deliveriesOf(gift.id, 'gift.sent')).length === 1, 10_000, 'sender told');
    assert.deepEqual(
      (await db()('gift_events').where({ gift_id: gift.id }).orderBy('id').select('to_status')).map((e) => e.to_status),
      ['SCHEDULED', 'SENDING', 'SENT'],
    );
    assert.ok(sent.expires_at && sent.remind_d3_at && sent.remind_d1_at);
  });

  it('delivery failing all 3 attempts: FAILED_REFUNDED, refunded once, the sender told', async () => {
    const gift = await bed.reserve({ recipient: { name: '연락안됨', phone: UNREACHABLE } });
    const failed = await bed.waitFor(gift.id, ['FAILED_REFUNDED'], 40_000);
    const [delivery] = await deliveriesOf(gift.id, 'gift.received');
    assert.equal(delivery.status, 'failed');
    assert.equal(delivery.attempts, 3);
    assert.deepEqual(await ledger(gift.id), [{ kind: 'debit', amount: '4700' }, { kind: 'refund', amount: '4700' }]);
    await eventually(async () => (await deliveriesOf(gift.id, 'gift.failed')).length === 1, 10_000, 'sender told of the failure');
    assert.equal(failed.code !== null, true);
  });

  it('cancel racing the send: each gift ends cancelled and refunded, or sent — never both', async () => {
    const gifts = await Promise.all(Array.from({ length: 24 }, () => bed.reserve({}, 2_000)));
    const dueAt = Math.max(...gifts.map((g) => g.send_at.getTime()));
    // Fire the cancels spread around the due instant, so some land before the claim and some after.
    await new Promise((r) => setTimeout(r, Math.max(0, dueAt - Date.now() - 200)));
    const outcomes = await Promise.all(gifts.map(async (g, i) => {
      await new Promise((r) => setTimeout(r, (i % 12) * 80));
      return cancelGift(bed.deps, g.id, sender);
    }));
    const final = await Promise.all(gifts.map((g) => bed.waitFor(g.id, ['CANCELLED', 'SENT'])));
    const counts = { CANCELLED: final.filter((g) => g.status === 'CANCELLED').length, SENT: final.filter((g) => g.status === 'SENT').length };
    process.stdout.write(`# cancel race: ${JSON.stringify(counts)}\n`);
    for (const [i, g] of final.entries()) {
      const refunds = (await ledger(g.id)).filter((e) => e.kind === 'refund').length;
      const received = await deliveriesOf(g.id, 'gift.received');
      if (g.status === 'CANCELLED') {
        assert.equal(outcomes[i]!.kind, 'ok');
        assert.equal(refunds, 1, 'cancelled → refunded once');
        assert.equal(received.length, 0, 'cancelled → nothing sent');
      } else {
        assert.equal(outcomes[i]!.kind, 'conflict');
        assert.equal(refunds, 0, 'sent → no refund');
        assert.equal(received.length, 1, 'sent → exactly one message');
      }
    }
  });
});
