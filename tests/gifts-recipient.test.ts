import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formatGiftCode } from '../domain/gifts/gift-code.ts';
import { expireGifts, remindHolders } from '../gifts/housekeeping.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { createGiftTestBed, type GiftTestBed } from './support/gifts.ts';
import { eventually } from './support/services.ts';

describe('gifts: the recipient link, transfer, expiry and reminders', () => {
  let bed: GiftTestBed;
  let api: TestApi;
  before(async () => {
    bed = await createGiftTestBed();
    await bed.start();
    api = await startTestApi(bed.platform);
  });
  after(() => bed.platform.cleanup());

  const db = () => bed.platform.db;
  const json = { headers: { accept: 'application/json' } };
  const sentGift = async () => bed.waitFor((await bed.reserve()).id, ['SENT']);
  const byKey = (key: string) => db()('notification_deliveries').where({ idempotency_key: key }).select('*');
  const refunds = async (giftId: string) => (await db()('credit_ledger').where({ ref_type: 'gift', ref_id: giftId, kind: 'refund' }).select('amount')).length;

  it('opening the link shows the gift (HTML or JSON), marks it OPENED once and tells the sender', async () => {
    const gift = await sentGift();
    const page = await api.get(`/g/${gift.link_token}`, { headers: { accept: 'text/html' } });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /text\/html/);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    const html = await page.text();
    assert.match(html, /스타벅스 아메리카노 Tall/);
    assert.ok(html.includes(formatGiftCode(gift.code!)));
    const view = await (await api.get(`/g/${gift.link_token}`, json)).json();
    assert.equal(view.status, 'OPENED');
    assert.equal(view.code, formatGiftCode(gift.code!));
    assert.equal(view.from, '이준호');
    assert.equal(view.canTransfer, true);
    await eventually(async () => (await byKey(`gift:${gift.id}:opened:0`)).length === 1, 10_000, 'sender told');
    const history = await db()('gift_events').where({ gift_id: gift.id }).orderBy('id').pluck('to_status');
    assert.deepEqual(history, ['SCHEDULED', 'SENDING', 'SENT', 'OPENED']);
    assert.equal((await api.get('/g/AAAAAAAAAAAAAAAAAAAAAA', json)).status, 404);
    assert.equal((await api.get('/g/short', json)).status, 400);
  });

  it('a message typed by the sender is escaped on the page', async () => {
    const gift = await bed.waitFor((await bed.reserve({ message: '<script>alert(1)</script>' })).id, ['SENT']);
    const html = await (await api.get(`/g/${gift.link_token}`)).text();
    assert.ok(!html.includes('<script>'));
    assert.ok(html.includes('&lt;script&gt;'));
  });

  it('redeem within validity: USED once; a mistyped code is 400, a second use 409', async () => {
    const gift = await sentGift();
    const typo = gift.code!.slice(0, 5) + ((Number(gift.code![5]) + 1) % 10) + gift.code!.slice(6);
    const bad = await api.post(`/g/${gift.link_token}/redeem`, { code: typo });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).errors[0].path, 'code');
    const ok = await api.post(`/g/${gift.link_token}/redeem`, { code: formatGiftCode(gift.code!) });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).status, 'USED');
    const again = await api.post(`/g/${gift.link_token}/redeem`, {});
    assert.equal(again.status, 409);
    assert.match((await again.json()).detail, /already used/);
  });

  it('an expired gift cannot be redeemed', async () => {
    const gift = await sentGift();
    await db()('gifts').where({ id: gift.id }).update({ expires_at: new Date(Date.now() - 1_000) });
    const res = await api.post(`/g/${gift.link_token}/redeem`, {});
    assert.equal(res.status, 409);
    assert.match((await res.json()).detail, /expired/);
  });

  it('transfer once: a new link and code for the new holder, the old link dead, a second transfer refused', async () => {
    const gift = await sentGift();
    const res = await api.post(`/g/${gift.link_token}/transfer`, { recipient: { name: '최유나', kakaoId: 'yuna' }, channel: 'kakao', timeZone: 'Europe/Paris' });
    assert.equal(res.status, 200, await res.clone().text());
    const moved = await bed.gift(gift.id);
    assert.notEqual(moved.link_token, gift.link_token);
    assert.notEqual(moved.code, gift.code);
    assert.equal(moved.recipient_kakao_id, 'yuna');
    assert.equal(moved.time_zone, 'Europe/Paris');
    assert.equal(moved.expires_at!.getTime(), gift.expires_at!.getTime(), 'validity does not restart');
    const [notice] = await byKey(`gift:${gift.id}:received:1`);
    assert.equal(notice.recipient_key, 'kakao:yuna');
    assert.ok(notice.data.link.endsWith(`/g/${moved.link_token}`));
    const old = await api.get(`/g/${gift.link_token}`, json);
    assert.equal(old.status, 410);
    assert.equal((await api.post(`/g/${gift.link_token}/redeem`, {})).status, 410);
    const second = await api.post(`/g/${moved.link_token}/transfer`, { recipient: { name: '한지민', phone: '010-2222-3333' }, channel: 'sms' });
    assert.equal(second.status, 409);
    assert.match((await second.json()).detail, /only once/);
    const view = await (await api.get(`/g/${moved.link_token}`, json)).json();
    assert.equal(view.to, '최유나');
    assert.equal(view.canTransfer, false);
    assert.equal((await api.post(`/g/${moved.link_token}/redeem`, { code: moved.code })).status, 200);
  });

  it('two racing transfers: exactly one wins', async () => {
    const gift = await sentGift();
    const results = await Promise.all(
      ['a', 'b', 'c'].map((k) => api.post(`/g/${gift.link_token}/transfer`, { recipient: { name: `친구${k}`, kakaoId: `friend-${k}` }, channel: 'kakao' })),
    );
    // A loser that read the gift before the winner committed gets 409 (already passed on); one that
    // arrives after the commit finds the old link retired and gets 410. Either way, one transfer.
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses ${statuses}`);
    assert.ok(statuses.every((s) => s === 200 || s === 409 || s === 410), `statuses ${statuses}`);
    const row = await db()('gifts').where({ id: gift.id }).first();
    assert.equal(row.transfer_count, 1);
    assert.equal(row.previous_link_token, gift.link_token);
  });

  it('expiry refunds exactly once, however many sweeps race', async () => {
    const gift = await sentGift();
    await db()('gifts').where({ id: gift.id }).update({ expires_at: new Date(Date.now() - 1_000) });
    await Promise.all([expireGifts(bed.deps), expireGifts(bed.deps), expireGifts(bed.deps)]);
    const expired = await bed.waitFor(gift.id, ['EXPIRED_REFUNDED']);
    await new Promise((r) => setTimeout(r, 1_200)); // let the scheduled sweep run over it too
    assert.equal(expired.status, 'EXPIRED_REFUNDED');
    assert.equal(await refunds(gift.id), 1);
    assert.equal((await byKey(`gift:${gift.id}:expired`)).length, 1);
    const view = await (await api.get(`/g/${gift.link_token}`, json)).json();
    assert.equal(view.canRedeem, false);
  });

  it('D-3 and D-1 reminders reach the holder once each', async () => {
    const gift = await sentGift();
    await db()('gifts').where({ id: gift.id }).update({ remind_d3_at: new Date(Date.now() - 1_000), remind_d1_at: new Date(Date.now() + 3_600_000) });
    await Promise.all([remindHolders(bed.deps), remindHolders(bed.deps), remindHolders(bed.deps)]);
    await new Promise((r) => setTimeout(r, 1_200));
    const d3 = await byKey(`gift:${gift.id}:d3`);
    assert.equal(d3.length, 1);
    assert.equal(d3[0].data.daysLeft, 3);
    assert.equal(d3[0].recipient_key, `phone:${gift.recipient_phone!.replace(/-/g, '')}`);
    assert.equal((await byKey(`gift:${gift.id}:d1`)).length, 0);
    await db()('gifts').where({ id: gift.id }).update({ remind_d1_at: new Date(Date.now() - 1_000) });
    await Promise.all([remindHolders(bed.deps), remindHolders(bed.deps)]);
    await new Promise((r) => setTimeout(r, 1_200));
    assert.equal((await byKey(`gift:${gift.id}:d1`)).length, 1);
    assert.equal((await byKey(`gift:${gift.id}:d3`)).length, 1);
    const row = await bed.gift(gift.id);
    assert.ok(row.reminded_d3_at && row.reminded_d1_at);
    const sent = await db()('notification_deliveries').where({ event: 'gift.expiring' }).whereRaw(`data->>'giftId' = ?`, [gift.id]).count<{ count: string }[]>('* as count');
    assert.equal(sent[0]!.count, '2');
  });
});
