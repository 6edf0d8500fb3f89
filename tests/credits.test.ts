import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { balance, capture, CreditHoldError, debit, ensureAccount, history, hold, InsufficientCreditsError, refund, release, topUp } from '../credits/ledger.ts';
import { startTestApi, type TestApi } from './support/http.ts';
import { createTestPlatform, type TestPlatform } from './support/services.ts';

describe('credit ledger', () => {
  let platform: TestPlatform;
  let api: TestApi;
  before(async () => {
    platform = await createTestPlatform({ CREDITS_WELCOME: '50000' });
    api = await startTestApi(platform);
  });
  after(() => platform.cleanup());

  const tx = <T>(work: (trx: TestPlatform['db']) => Promise<T>) => platform.db.transaction((trx) => work(trx));
  /** The invariant behind every balance: the cache equals the ledger replayed. */
  const replayed = async (userId: string) => {
    const entries = await history(platform.db, userId, { limit: 1000 });
    let available = 0;
    let held = 0;
    for (const e of entries) {
      if (e.kind === 'grant' || e.kind === 'top_up' || e.kind === 'refund') available += e.amount;
      if (e.kind === 'hold') (available -= e.amount), (held += e.amount);
      if (e.kind === 'release') (available += e.amount), (held -= e.amount);
      if (e.kind === 'capture') held -= e.amount;
      if (e.kind === 'debit') available -= e.amount;
    }
    return { available, held };
  };

  it('grants the welcome credits once, on first touch', async () => {
    assert.deepEqual(await balance(platform.db, 'u-new'), { available: 0, held: 0 });
    await Promise.all(Array.from({ length: 5 }, () => tx((trx) => ensureAccount(trx, 'u-new'))));
    assert.deepEqual(await balance(platform.db, 'u-new'), { available: 50_000, held: 0 });
    const entries = await history(platform.db, 'u-new', { limit: 10 });
    assert.deepEqual(entries.map((e) => [e.kind, e.amount]), [['grant', 50_000]]);
  });

  it('20 concurrent debits never overdraw: exactly as many succeed as the balance allows', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => tx((trx) => debit(trx, { userId: 'u-race', amount: 7_000, ref: { type: 'test', id: `d-${i}` } }))),
    );
    const won = results.filter((r) => r.status === 'fulfilled').length;
    const lost = results.filter((r) => r.status === 'rejected');
    assert.equal(won, Math.floor(50_000 / 7_000));
    for (const r of lost) assert.ok((r as PromiseRejectedResult).reason instanceof InsufficientCreditsError);
    const after = await balance(platform.db, 'u-race');
    assert.deepEqual(after, { available: 50_000 - won * 7_000, held: 0 });
    assert.deepEqual(after, await replayed('u-race'));
  });

  it('repeating an operation for the same reference changes nothing', async () => {
    const ref = { type: 'test', id: 'once' };
    await tx((trx) => topUp(trx, { userId: 'u-idem', amount: 10_000, ref }));
    await tx((trx) => topUp(trx, { userId: 'u-idem', amount: 10_000, ref }));
    await tx((trx) => debit(trx, { userId: 'u-idem', amount: 3_000, ref }));
    await Promise.all([tx((trx) => debit(trx, { userId: 'u-idem', amount: 3_000, ref })), tx((trx) => debit(trx, { userId: 'u-idem', amount: 3_000, ref }))]);
    await Promise.all([tx((trx) => refund(trx, { userId: 'u-idem', ref })), tx((trx) => refund(trx, { userId: 'u-idem', ref }))]);
    assert.deepEqual(await balance(platform.db, 'u-idem'), { available: 60_000, held: 0 });
    assert.deepEqual(await balance(platform.db, 'u-idem'), await replayed('u-idem'));
  });

  it('hold → capture spends the hold once; a captured hold is not released', async () => {
    const ref = { type: 'group_order', id: 'g-1' };
    assert.deepEqual(await tx((trx) => hold(trx, { userId: 'u-hc', amount: 12_000, ref })), { available: 38_000, held: 12_000 });
    assert.deepEqual(await tx((trx) => hold(trx, { userId: 'u-hc', amount: 12_000, ref })), { available: 38_000, held: 12_000 });
    assert.deepEqual(await tx((trx) => capture(trx, { userId: 'u-hc', ref })), { available: 38_000, held: 0 });
    assert.deepEqual(await tx((trx) => capture(trx, { userId: 'u-hc', ref })), { available: 38_000, held: 0 });
    assert.deepEqual(await tx((trx) => release(trx, { userId: 'u-hc', ref })), { available: 38_000, held: 0 });
    assert.deepEqual(await tx((trx) => refund(trx, { userId: 'u-hc', ref })), { available: 50_000, held: 0 });
    assert.deepEqual(await tx((trx) => refund(trx, { userId: 'u-hc', ref })), { available: 50_000, held: 0 });
    assert.deepEqual(await balance(platform.db, 'u-hc'), await replayed('u-hc'));
  });

  it('hold → release returns the hold once; a released hold cannot be captured', async () => {
    const ref = { type: 'group_order', id: 'g-2' };
    await tx((trx) => hold(trx, { userId: 'u-hr', amount: 20_000, ref }));
    await Promise.all([tx((trx) => release(trx, { userId: 'u-hr', ref })), tx((trx) => release(trx, { userId: 'u-hr', ref }))]);
    assert.deepEqual(await balance(platform.db, 'u-hr'), { available: 50_000, held: 0 });
    await assert.rejects(tx((trx) => capture(trx, { userId: 'u-hr', ref })), CreditHoldError);
    await assert.rejects(tx((trx) => capture(trx, { userId: 'u-hr', ref: { type: 'group_order', id: 'never' } })), CreditHoldError);
    assert.deepEqual(await tx((trx) => release(trx, { userId: 'u-hr', ref: { type: 'group_order', id: 'never' } })), { available: 50_000, held: 0 });
  });

  it('a refused hold leaves the caller’s transaction usable and writes nothing', async () => {
    const err = await tx(async (trx) => {
      const e = await hold(trx, { userId: 'u-poor', amount: 50_001, ref: { type: 'test', id: 'big' } }).catch((x: unknown) => x);
      await trx.raw('SELECT 1');
      return e;
    });
    assert.ok(err instanceof InsufficientCreditsError);
    assert.equal(err.available, 50_000);
    assert.equal(err.required, 50_001);
    assert.deepEqual((await history(platform.db, 'u-poor', { limit: 10 })).map((e) => e.kind), ['grant']);
    await assert.rejects(tx((trx) => debit(trx, { userId: 'u-poor', amount: 0, ref: { type: 'test', id: 'zero' } })), RangeError);
  });

  it('GET /v1/me/credits shows the balance and history; admins top up, with an Idempotency-Key counted once', async () => {
    const me = await (await api.get('/v1/me/credits', { token: await api.token('customer', 'c-credits') })).json();
    assert.equal(me.available, 50_000);
    assert.equal(me.held, 0);
    assert.deepEqual(me.history.map((h: { kind: string }) => h.kind), ['grant']);

    const admin = await api.token('admin', 'ops');
    const body = { userId: 'c-credits', amount: 15_000 };
    const first = await api.post('/v1/admin/credits/top-up', body, { token: admin, headers: { 'idempotency-key': 'topup-1' } });
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), { userId: 'c-credits', available: 65_000, held: 0 });
    const again = await api.post('/v1/admin/credits/top-up', body, { token: admin, headers: { 'idempotency-key': 'topup-1' } });
    assert.deepEqual(await again.json(), { userId: 'c-credits', available: 65_000, held: 0 });
    const fresh = await (await api.post('/v1/admin/credits/top-up', body, { token: admin })).json();
    assert.equal(fresh.available, 80_000);

    const customer = await api.post('/v1/admin/credits/top-up', body, { token: await api.token('customer', 'c-credits') });
    assert.equal(customer.status, 403);
    for (const amount of [0, -5, 1.5, '100']) {
      const bad = await api.post('/v1/admin/credits/top-up', { userId: 'c-credits', amount }, { token: admin });
      assert.equal(bad.status, 400, String(amount));
      assert.equal((await bad.json()).errors[0].path, 'amount');
    }
    const later = await (await api.get('/v1/me/credits?limit=2', { token: await api.token('customer', 'c-credits') })).json();
    assert.deepEqual(later.history.map((h: { kind: string; amount: number }) => [h.kind, h.amount]), [['top_up', 15_000], ['top_up', 15_000]]);
    assert.ok(later.next.before > 0);
  });
});
