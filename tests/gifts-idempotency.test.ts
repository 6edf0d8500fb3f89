import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedGiftProducts } from '../cli/commands/seed.ts';
import { balance } from '../credits/ledger.ts';
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
