import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DateTime } from 'luxon';
import { seedGiftProducts } from '../cli/commands/seed.ts';
import { balance } from '../credits/ledger.ts';
import { localIn } from './support/gifts.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';


const MIN = 60_000;

describe('gifts API: reservation and management', () => {
  let platform: TestPlatform;
  let api: TestApi;
  let token: string;
  const send = (method: string, path: string, body?: unknown, auth = token) =>
    fetch(api.url + path, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${auth}` }, body: body === undefined ? undefined : JSON.stringify(body) });
  const gift = (over: Record<string, unknown> = {}) => ({
    productId: 'gp-starbucks-americano-t',
    recipient: { name: '김민지', phone: '010-1234-5678' },
    channel: 'kakao',
    message: '생일 축하해!',
    sendAt: localIn('Asia/Seoul', 2 * 24 * 60 * MIN),
    timeZone: 'Asia/Seoul',
    ...over,
  });

  before(async () => {
    platform = await createTestPlatform();
    await seedGiftProducts(platform.db);
    api = await startTestApi(platform);
    token = await api.token('customer', 'c-gifts');
  });
  after(() => platform.cleanup());

  it('lists the seeded catalogue with prices and validity', async () => {
    const res = await send('GET', '/v1/gift-products');
    assert.equal(res.status, 200);
    const { products } = await res.json();
    assert.ok(products.length >= 15);
    const americano = products.find((p: { id: string }) => p.id === 'gp-starbucks-americano-t');
    assert.deepEqual(americano, { id: 'gp-starbucks-americano-t', brand: '스타벅스', name: '아메리카노 Tall', category: 'coffee', price: 4_700, validityDays: 30 });
  });

  it('reserves a gift: 201, SCHEDULED with its history, credits debited, a delayed job under the gift id, the sender told', async () => {
    const before = await balance(platform.db, 'c-gifts');
    const res = await send('POST', '/v1/gifts', gift());
    assert.equal(res.status, 201, await res.clone().text());
    const body = await res.json();
    assert.equal(body.status, 'SCHEDULED');
    assert.equal(body.product.price, 4_700);
    assert.deepEqual(body.history.map((h: { to: string }) => h.to), ['SCHEDULED']);
    const after = await balance(platform.db, 'c-gifts');
    // First touch grants the welcome credits, then the price is debited.
    assert.equal(after.available, (before.available || 50_000) - 4_700);
    const job = await platform.queues.get('gifts').getJob(body.id);
    assert.ok(job, 'a job under the gift id');
    assert.equal(await job.getState(), 'delayed');
    assert.ok(Math.abs(job.timestamp + job.delay - Date.parse(body.sendAt.at)) < 2_000);
    const notice = await platform.db('notification_deliveries').where({ event: 'gift.reserved', recipient_key: 'user:c-gifts' }).first();
    assert.ok(notice);
  });

  it('9 minutes ahead is 400 naming sendAt; 1 year + 1 minute is 400', async () => {
    for (const sendAt of [localIn('Asia/Seoul', 9 * MIN), DateTime.now().plus({ years: 1, minutes: 1 }).setZone('Asia/Seoul').toFormat("yyyy-LL-dd'T'HH:mm:ss")]) {
      const res = await send('POST', '/v1/gifts', gift({ sendAt }));
      assert.equal(res.status, 400, sendAt);
      assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      const problem = await res.json();
      assert.equal(problem.errors[0].path, 'sendAt');
    }
    const nearlyAYear = DateTime.now().plus({ years: 1, minutes: -1 }).setZone('Asia/Seoul').toFormat("yyyy-LL-dd'T'HH:mm:ss");
    assert.equal((await send('POST', '/v1/gifts', gift({ sendAt: nearlyAYear }))).status, 201);
    assert.equal((await send('POST', '/v1/gifts', gift({ sendAt: localIn('Asia/Seoul', 11 * MIN) }))).status, 201);
  });

  it('500 Korean characters are accepted; 501 are 400 naming message', async () => {
    const ok = await send('POST', '/v1/gifts', gift({ message: '사랑해'.repeat(166) + '요요' }));
    assert.equal(ok.status, 201);
    assert.equal([...(await ok.json()).message].length, 500);
    const tooLong = await send('POST', '/v1/gifts', gift({ message: '가'.repeat(501) }));
    assert.equal(tooLong.status, 400);
    assert.equal((await tooLong.json()).errors[0].path, 'message');
  });

  it('a DST-gap time in America/New_York is sent at the documented instant', async () => {
    // The next spring-forward day in New York, 02:30 (does not exist) → 03:30 EDT.
    const year = DateTime.now().setZone('America/New_York').year + (DateTime.now().month > 2 ? 1 : 0);
    const march = DateTime.fromObject({ year, month: 3, day: 8 }, { zone: 'America/New_York' });
    const sunday = march.plus({ days: (7 - march.weekday) % 7 }); // second Sunday of March
    const res = await send('POST', '/v1/gifts', gift({ sendAt: `${sunday.toISODate()}T02:30`, timeZone: 'America/New_York' }));
    assert.equal(res.status, 201, await res.clone().text());
    const body = await res.json();
    assert.equal(body.sendTimeRule, 'gap');
    assert.equal(DateTime.fromISO(body.sendAt.at, { zone: 'America/New_York' }).toFormat('HH:mm ZZ'), '03:30 -04:00');
    assert.equal(body.sendAt.local, `${sunday.toISODate()}T02:30`);
  });

  it('a date-only gift for a recipient in America/Los_Angeles, sent from Asia/Seoul, goes at midnight in LA', async () => {
    const seoulToken = await api.token('customer', 'c-seoul');
    const day = DateTime.now().setZone('America/Los_Angeles').plus({ days: 3 }).toISODate()!;
    const res = await send('POST', '/v1/gifts', gift({ sendAt: day, timeZone: 'America/Los_Angeles', senderName: '이준호' }), seoulToken);
    assert.equal(res.status, 201);
    const body = await res.json();
    const inLa = DateTime.fromISO(body.sendAt.at, { zone: 'America/Los_Angeles' });
    assert.equal(inLa.toFormat("yyyy-LL-dd'T'HH:mm"), `${day}T00:00`);
    // Not midnight in Seoul.
    assert.notEqual(DateTime.fromISO(body.sendAt.at, { zone: 'Asia/Seoul' }).toFormat('HH:mm'), '00:00');
  });

  it('names the wrong field for bad input', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ productId: 'gp-nope' }, 'productId'],
      [{ channel: 'fax' }, 'channel'],
      [{ channel: 'email' }, 'recipient.email'],
      [{ recipient: { name: '김민지' } }, 'recipient.phone'],
      [{ timeZone: 'Asia/Nowhere' }, 'timeZone'],
      [{ sendAt: '2026-12-25T09:00+09:00' }, 'sendAt'],
      [{ sendAt: 'tomorrow' }, 'sendAt'],
    ];
    for (const [over, path] of cases) {
      const res = await send('POST', '/v1/gifts', gift(over));
      assert.equal(res.status, 400, JSON.stringify(over));
      assert.equal((await res.json()).errors[0].path, path, JSON.stringify(over));
    }
  });

  it('not enough credits is 409 and writes nothing', async () => {
    const poor = await api.token('customer', 'c-poor');
    let last: Response | undefined;
    for (let i = 0; i < 3; i++) last = await send('POST', '/v1/gifts', gift({ productId: 'gp-oliveyoung-30000' }), poor);
    assert.equal(last!.status, 409);
    const problem = await last!.json();
    assert.equal(problem.errors[0].path, 'productId');
    assert.equal(problem.available, 20_000);
    assert.equal((await platform.db('gifts').where({ sender_id: 'c-poor' }).count<{ count: string }[]>('* as count'))[0]!.count, '1');
  });

  it('lists by status and shows one gift with its history; others cannot read it', async () => {
    const created = await (await send('POST', '/v1/gifts', gift())).json();
    await send('POST', `/v1/gifts/${created.id}/cancel`);
    const scheduled = await (await send('GET', '/v1/gifts?status=SCHEDULED')).json();
    const cancelled = await (await send('GET', '/v1/gifts?status=CANCELLED')).json();
    assert.ok(scheduled.gifts.every((g: { status: string }) => g.status === 'SCHEDULED'));
    assert.ok(cancelled.gifts.some((g: { id: string }) => g.id === created.id));
    const one = await (await send('GET', `/v1/gifts/${created.id}`)).json();
    assert.deepEqual(one.history.map((h: { from: string | null; to: string }) => [h.from, h.to]), [[null, 'SCHEDULED'], ['SCHEDULED', 'CANCELLED']]);
    const other = await api.token('customer', 'c-other');
    assert.equal((await send('GET', `/v1/gifts/${created.id}`, undefined, other)).status, 403);
    assert.equal((await send('GET', '/v1/gifts?status=LOST')).status, 400);
  });

  it('cancel refunds in full, removes the job, and a second cancel is 409', async () => {
    const created = await (await send('POST', '/v1/gifts', gift({ productId: 'gp-br-family' }))).json();
    const before = await balance(platform.db, 'c-gifts');
    const res = await send('POST', `/v1/gifts/${created.id}/cancel`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).status, 'CANCELLED');
    assert.equal((await balance(platform.db, 'c-gifts')).available, before.available + 26_000);
    assert.equal(await platform.queues.get('gifts').getJob(created.id), undefined);
    const again = await send('POST', `/v1/gifts/${created.id}/cancel`);
    assert.equal(again.status, 409);
    assert.match((await again.json()).detail, /already cancelled/);
    assert.equal((await balance(platform.db, 'c-gifts')).available, before.available + 26_000, 'refunded once');
  });

  it('changes recipient, message and time before the cutoff, moving the delayed job', async () => {
    const created = await (await send('POST', '/v1/gifts', gift())).json();
    const later = localIn('Asia/Seoul', 5 * 24 * 60 * MIN);
    const res = await send('PATCH', `/v1/gifts/${created.id}`, { recipient: { name: '박서준', kakaoId: 'seojun' }, message: '늦었지만 축하해', sendAt: later });
    assert.equal(res.status, 200, await res.clone().text());
    const body = await res.json();
    assert.equal(body.recipient.name, '박서준');
    assert.equal(body.message, '늦었지만 축하해');
    assert.equal(body.sendAt.local, later);
    assert.equal(body.version, created.version + 1);
    const job = await platform.queues.get('gifts').getJob(created.id);
    assert.ok(Math.abs(job!.timestamp + job!.delay - Date.parse(body.sendAt.at)) < 2_000, 'job moved to the new time');
    assert.equal((await send('PATCH', `/v1/gifts/${created.id}`, { sendAt: localIn('Asia/Seoul', 5 * MIN) })).status, 400);
    assert.equal((await send('PATCH', `/v1/gifts/${created.id}`, { code: '1' })).status, 400);
  });

  it('a change within 1 hour of sending is 409 and says why', async () => {
    const created = await (await send('POST', '/v1/gifts', gift({ sendAt: localIn('Asia/Seoul', 30 * MIN) }))).json();
    const res = await send('PATCH', `/v1/gifts/${created.id}`, { message: '수정' });
    assert.equal(res.status, 409);
    const problem = await res.json();
    assert.match(problem.detail, /changes close 60 minutes before sending/);
    assert.equal(problem.currentStatus, 'SCHEDULED');
    // Cancelling is still free.
    assert.equal((await send('POST', `/v1/gifts/${created.id}/cancel`)).status, 200);
  });
});
