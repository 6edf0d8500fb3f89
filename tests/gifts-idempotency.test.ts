import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedGiftProducts } from '../cli/commands/seed.ts';
import { balance, topUp } from '../credits/ledger.ts';
import { localIn } from './support/gifts.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

describe('gifts API: Idempotency-Key on reservations', () => {
  let platform: TestPlatform;
  let api: TestApi;
  const reserve = (token: string, key: string | undefined, body: unknown) =>
    fetch(`${api.url}/v1/gifts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...(key === undefined ? {} : { 'idempotency-key': key }) },
      body: JSON.stringify(body),
    });
  const gift = (over: Record<string, unknown> = {}) => ({
    productId: 'gp-starbucks-americano-t',
    recipient: { name: '김민지', phone: '010-1234-5678' },
    channel: 'kakao',
    message: '생일 축하해!',
    sendAt: localIn('Asia/Seoul', 2 * 24 * 3_600_000),
    timeZone: 'Asia/Seoul',
    ...over,
  });
  const debits = (senderId: string) => platform.db('credit_ledger').where({ user_id: senderId, kind: 'debit' }).count<{ count: string }[]>('* as count').then((r) => Number(r[0]!.count));
  const giftsOf = (senderId: string) => platform.db('gifts').where({ sender_id: senderId }).select('id');

  before(async () => {
    platform = await createTestPlatform();
    await seedGiftProducts(platform.db);
    api = await startTestApi(platform);
  });
  after(() => platform.cleanup());

  it('a retry with the same key and body returns the same gift and debits once', async () => {
    const token = await api.token('customer', 'c-idem-1');
    // The first reservation of a new sender (welcome grant, ledger path), then one of a known sender (one statement).
    for (const key of ['first-try-1', 'second-try-2']) {
      const body = gift({ message: `key ${key}` });
      const first = await reserve(token, key, body);
      assert.equal(first.status, 201, await first.clone().text());
      const made = await first.json();
      const again = await reserve(token, key, body);
      assert.equal(again.status, 200);
      const replayed = await again.json();
      assert.equal(replayed.id, made.id);
      assert.equal(replayed.status, 'SCHEDULED');
      assert.deepEqual(replayed.history.map((h: { to: string }) => h.to), ['SCHEDULED']);
    }
    assert.equal((await giftsOf('c-idem-1')).length, 2);
    assert.equal(await debits('c-idem-1'), 2);
    assert.equal((await balance(platform.db, 'c-idem-1')).available, 50_000 - 2 * 4_700);
  });

  it('the same key with a different body is 422 problem+json naming the header and the first gift; nothing is paid', async () => {
    const token = await api.token('customer', 'c-idem-2');
    const first = await reserve(token, 'k-1', gift());
    assert.equal(first.status, 201);
    const { id } = await first.json();
    const before = await balance(platform.db, 'c-idem-2');
    const res = await reserve(token, 'k-1', gift({ message: '다른 메시지' }));
    assert.equal(res.status, 422);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    const problem = await res.json();
    assert.equal(problem.giftId, id);
    assert.equal(problem.errors[0].path, 'headers.idempotency-key');
    assert.match(problem.detail, /already used for a different gift reservation/);
    assert.deepEqual(await balance(platform.db, 'c-idem-2'), before);
    assert.equal((await giftsOf('c-idem-2')).length, 1);
  });

  it('a key is scoped to its sender, and a malformed key is 400', async () => {
    const [a, b] = await Promise.all([api.token('customer', 'c-idem-3'), api.token('customer', 'c-idem-4')]);
    const one = await reserve(a, 'shared-key', gift());
    const other = await reserve(b, 'shared-key', gift());
    assert.equal(one.status, 201);
    assert.equal(other.status, 201);
    assert.notEqual((await one.json()).id, (await other.json()).id);
    const bad = await reserve(a, 'no spaces allowed', gift());
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).errors[0].path, 'headers.idempotency-key');
  });

  it('concurrent reservations of many senders, written together, are each paid exactly: enough, short by one, and racing retries', async () => {
    const price = Number((await platform.db('gift_products').where({ id: 'gp-starbucks-americano-t' }).first('price')).price);
    const senders = Array.from({ length: 8 }, (_, i) => `c-group-${i}`);
    await platform.db.transaction(async (trx) => {
      for (const id of [...senders, 'c-group-short']) await topUp(trx, { userId: id, amount: 3 * price, ref: { type: 'test', id: `${id}-top-up` } });
    });
    const start = new Map(await Promise.all([...senders, 'c-group-short'].map(async (id) => [id, (await balance(platform.db, id)).available] as const)));
    const tokens = new Map(await Promise.all([...senders, 'c-group-short'].map(async (id) => [id, await api.token('customer', id)] as const)));
    // Every sender three at once, the first one's last retried four times with one key; the short
    // sender one more than their credits pay for.
    const payable = Math.floor(start.get('c-group-short')! / price);
    const requests = [
      ...senders.flatMap((id) => [0, 1, 2].map((n) => ({ id, key: n === 2 ? `${id}-k` : undefined, body: gift({ message: `${id} ${n}` }) }))),
      ...Array.from({ length: payable + 1 }, (_, n) => ({ id: 'c-group-short', key: undefined, body: gift({ message: `short ${n}` }) })),
    ];
    const retries = Array.from({ length: 4 }, () => requests.find((r) => r.key === 'c-group-0-k')!);
    const answers = await Promise.all([...requests, ...retries].map((r) => reserve(tokens.get(r.id)!, r.key, r.body).then(async (res) => ({ who: r.id, status: res.status, body: await res.json() }))));
    for (const id of senders) {
      const mine = answers.filter((a) => a.who === id);
      assert.ok(mine.every((a) => a.status === 201 || a.status === 200), `${id}: ${mine.map((a) => a.status)}`);
      assert.equal(new Set(mine.map((a) => a.body.id)).size, 3, `${id}: three gifts`);
      assert.equal((await giftsOf(id)).length, 3);
      assert.equal(await debits(id), 3, `${id}: debited three times`);
      assert.equal(start.get(id)! - (await balance(platform.db, id)).available, 3 * price);
    }
    const short = answers.filter((a) => a.who === 'c-group-short').map((a) => a.status);
    assert.deepEqual([short.filter((s) => s === 201).length, short.filter((s) => s === 409).length], [payable, 1], 'all it could pay for, and one refused');
    assert.equal((await giftsOf('c-group-short')).length, payable);
    assert.equal((await balance(platform.db, 'c-group-short')).available, start.get('c-group-short')! - payable * price);
    const made = answers.filter((a) => a.status === 201).map((a) => a.body.id as string);
    const told = await platform.db('notification_deliveries').where({ event: 'gift.reserved' }).whereRaw(`data->>'giftId' = ANY(?)`, [made]).count<{ count: string }[]>('* as count');
    assert.equal(Number(told[0]!.count), made.length, 'one confirmation per gift');
    const jobs = await Promise.all(made.map((id) => platform.queues.get('gifts').getJob(id)));
    assert.ok(jobs.every((j) => j?.opts.delay && j.opts.delay > 0), 'a delayed send job per gift');
  });

  it('racing retries with one key make one gift and one debit, and every answer names that gift', async () => {
    for (const sender of ['c-idem-race-new', 'c-idem-race-known']) {
      const token = await api.token('customer', sender);
      // The second sender already has an account, so its racers take the one-statement path.
      if (sender.endsWith('known')) assert.equal((await reserve(token, undefined, gift())).status, 201);
      const before = await debits(sender);
      const body = gift({ message: 'race' });
      const answers = await Promise.all(Array.from({ length: 6 }, () => reserve(token, 'race-key', body)));
      const statuses = answers.map((r) => r.status);
      assert.ok(statuses.every((s) => s === 201 || s === 200), `statuses ${statuses}`);
      assert.equal(statuses.filter((s) => s === 201).length, 1, `exactly one created: ${statuses}`);
      const ids = new Set(await Promise.all(answers.map(async (r) => (await r.json()).id)));
      assert.equal(ids.size, 1);
      assert.equal((await debits(sender)) - before, 1, 'debited once');
    }
  });
});
