import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { isLinkPreview } from '../domain/gifts/link-preview.ts';
import { remindHolders } from '../gifts/housekeeping.ts';
import { createDevProvider } from '../notifications/providers/dev.ts';
import { TransientDeliveryError, type NotificationProvider } from '../notifications/provider.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { createGiftTestBed, type GiftTestBed } from './support/gifts.ts';
import { ROOT } from './support/processes.ts';
import { eventually } from './support/services.ts';

describe('gift links: previews never open a gift', () => {
  it('tells scrapers, prefetches and HEAD apart from people', () => {
    const get = (ua: string, extra: Record<string, string> = {}) => isLinkPreview({ method: 'GET', headers: { 'user-agent': ua, ...extra } });
    for (const ua of [
      'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
      'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
      'Twitterbot/1.0',
      'Mozilla/5.0 (compatible; kakaotalk-scrap/1.0; +https://devtalk.kakao.com/)',
      'Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)',
      'TelegramBot (like TwitterBot)',
      'WhatsApp/2.23.20.0',
    ]) assert.equal(get(ua), true, ua);
    for (const ua of [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 KAKAOTALK 10.4.5',
      'Mozilla/5.0 (Linux; Android 14; SM-S918N) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36',
      'Mozilla/5.0 (Linux; Android 13; CUBOT KingKong) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 Mobile Safari/537.36',
      'Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Line/13.20.0',
    ]) assert.equal(get(ua), false, ua);
    const chrome = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';
    assert.equal(get(chrome, { 'sec-purpose': 'prefetch;prerender' }), true);
    assert.equal(get(chrome, { purpose: 'prefetch' }), true);
    assert.equal(get(chrome, { 'x-purpose': 'preview' }), true);
    assert.equal(get(chrome, { 'x-moz': 'prefetch' }), true);
    assert.equal(isLinkPreview({ method: 'HEAD', headers: { 'user-agent': chrome } }), true);
  });
});

describe('gift links: what previews and replays may not do', () => {
  let bed: GiftTestBed;
  let api: TestApi;
  /** KakaoTalk through the development provider, except to the numbers listed here. */
  const unreachable = new Set<string>();
  const calls: string[] = [];
  const kakao: NotificationProvider = {
    channel: 'kakao',
    name: 'dev',
    async send(request) {
      if (request.recipient.phone && unreachable.has(request.recipient.phone)) throw new TransientDeliveryError('kakao gateway timeout');
      calls.push(request.deliveryId);
      return createDevProvider('kakao').send(request);
    },
  };
  before(async () => {
    bed = await createGiftTestBed();
    await bed.start({ providers: { push: createDevProvider('push'), sms: createDevProvider('sms'), email: createDevProvider('email'), kakao } });
    api = await startTestApi(bed.platform);
  });
  after(() => bed.platform.cleanup());

  const db = () => bed.platform.db;
  const deliveries = (giftId: string, event: string) => db()('notification_deliveries').where({ event }).whereRaw(`data->>'giftId' = ?`, [giftId]).select('*');
  const replayKakao = () => {
    const run = spawnSync(process.execPath, ['bin/deligo.js', 'jobs', 'replay', '--queue', 'notifications'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, REDIS_URL: bed.platform.urls.redisUrl, DATABASE_URL: bed.platform.urls.databaseUrl, QUEUE_PREFIX: bed.platform.prefix },
    });
    assert.equal(run.status, 0, run.stderr);
    return run.stdout;
  };
  /** The dead letter of a delivery has been run again and finished (withdrawn or sent). */
  const replayed = (deliveryId: string) => eventually(async () => !(await bed.platform.queues.get('notifyKakao').getJob(deliveryId)), 20_000, `the replayed job of ${deliveryId} to finish`);

  it('link-preview bots, prefetches and HEAD get a preview card; the gift stays unopened and the sender is not told', async () => {
    const gift = await bed.waitFor((await bed.reserve({ message: '비밀 메시지' })).id, ['SENT']);
    const link = `/g/${gift.link_token}`;
    for (const headers of <Array<Record<string, string>>>[
      { 'user-agent': 'Mozilla/5.0 (compatible; kakaotalk-scrap/1.0; +https://devtalk.kakao.com/)' },
      { 'user-agent': 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)' },
      { 'user-agent': 'facebookexternalhit/1.1' },
      { 'user-agent': 'Twitterbot/1.0' },
      { 'user-agent': 'Mozilla/5.0 Chrome/120.0', 'sec-purpose': 'prefetch' },
    ]) {
      const res = await api.get(link, { headers });
      assert.equal(res.status, 200);
      const html = await res.text();
      assert.match(html, /<meta property="og:title" content="이준호님이 선물을 보냈어요">/);
      assert.match(html, /스타벅스 아메리카노 Tall/);
      assert.ok(!html.includes(gift.code!.slice(0, 4)) && !html.includes('비밀 메시지'), 'no code, no message in a preview');
      assert.equal(res.headers.get('cache-control'), 'no-store');
    }
    const head = await fetch(api.url + link, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal((await bed.gift(gift.id)).status, 'SENT', 'still unopened');
    assert.equal((await db()('notification_deliveries').where({ idempotency_key: `gift:${gift.id}:opened:0` })).length, 0, 'the sender was not told');
    // The person opens it: now it is OPENED.
    const opened = await api.get(link, { headers: { 'user-agent': 'Mozilla/5.0 (iPhone) Mobile/15E148 KAKAOTALK 10.4.5', accept: 'application/json' } });
    assert.equal((await opened.json()).status, 'OPENED');
    assert.equal((await api.get('/g/AAAAAAAAAAAAAAAAAAAAAA', { headers: { 'user-agent': 'Twitterbot/1.0' } })).status, 404);
  });

  it('a replayed dead letter of a gift refunded meanwhile is withdrawn, not delivered', async () => {
    unreachable.add('010-7777-0001');
    const gift = await bed.reserve({ recipient: { name: '연락안됨', phone: '010-7777-0001' } });
    await bed.waitFor(gift.id, ['FAILED_REFUNDED'], 60_000);
    const [dead] = await deliveries(gift.id, 'gift.received');
    assert.equal(dead.status, 'failed');
    unreachable.delete('010-7777-0001');
    replayKakao();
    await replayed(dead.id);
    const [after] = await deliveries(gift.id, 'gift.received');
    assert.equal(after.status, 'failed');
    assert.match(after.last_error, /withdrawn before sending: the gift is FAILED_REFUNDED/);
    assert.ok(!calls.includes(dead.id), 'the link never reached the provider');
  });

  it('a replayed dead letter carrying a link that was replaced by a transfer is withdrawn; the new holder is unaffected', async () => {
    const gift = await bed.waitFor((await bed.reserve({ recipient: { name: '받는사람', phone: '010-7777-0002' } })).id, ['SENT']);
    // The D-3 reminder to the first holder fails three times and becomes a dead letter.
    unreachable.add('010-7777-0002');
    await db()('gifts').where({ id: gift.id }).update({ remind_d3_at: new Date(Date.now() - 1_000) });
    await remindHolders(bed.deps);
    const reminder = await eventually(async () => {
      const [row] = await deliveries(gift.id, 'gift.expiring');
      return row?.status === 'failed' ? row : undefined;
    }, 30_000, 'the reminder to become a dead letter');
    // The holder passes the gift on; then the gateway recovers and ops replay the dead letters.
    const moved = await api.post(`/g/${gift.link_token}/transfer`, { recipient: { name: '새주인', phone: '010-7777-0003' }, channel: 'kakao' });
    assert.equal(moved.status, 200);
    unreachable.delete('010-7777-0002');
    replayKakao();
    await replayed(reminder.id);
    const [after] = await deliveries(gift.id, 'gift.expiring');
    assert.equal(after.status, 'failed');
    assert.match(after.last_error, /withdrawn before sending: the link in this message was replaced/);
    assert.ok(!calls.includes(reminder.id), 'the old link never reached the provider');
    const current = await bed.gift(gift.id);
    const [received] = (await deliveries(gift.id, 'gift.received')).filter((d) => d.idempotency_key === `gift:${gift.id}:received:1`);
    await eventually(async () => (await db()('notification_deliveries').where({ id: received.id }).first()).status === 'sent', 10_000, 'the new holder to get the gift');
    assert.ok(received.data.link.endsWith(`/g/${current.link_token}`));
  });
});
