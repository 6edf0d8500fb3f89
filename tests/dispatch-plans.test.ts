import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { acceptOffers, createOffers } from '../db/dispatch-batch-repository.ts';
import { openDispatch } from '../db/dispatch-repository.ts';
import { createDispatchBed, type DispatchBed } from './support/dispatch-bed.ts';

/** Every relation a plan (EXPLAIN's JSON) reads with a sequential scan. */
function seqScans(node: Record<string, unknown>): string[] {
  const own = node['Node Type'] === 'Seq Scan' ? [String(node['Relation Name'])] : [];
  const children = (node.Plans as Array<Record<string, unknown>> | undefined) ?? [];
  return [...own, ...children.flatMap(seqScans)];
}

/**
 * The dispatch statements are prepared and their plans kept (db/prepared.ts). A plan made while a
 * table is small stays in use after it has grown: the offers' count on their dispatch, written as a
 * join, read the whole dispatches table for every batch at the hot spot. Each statement must find
 * its rows by key, whatever the plan was made from.
 */
describe('dispatch: kept plans find rows by key', () => {
  let bed: DispatchBed;

  before(async () => {
    // One connection: every call below runs on it, so its prepared statement is the one explained.
    bed = await createDispatchBed({ DISPATCH_OFFER_TIMEOUT_MS: '60000', DATABASE_POOL_MAX: '1' });
  });
  after(() => bed.platform.cleanup());

  it('the offer statement, planned while dispatches are few, reads no table whole', async () => {
    const { db } = bed.platform;
    const orderIds = await bed.orders('kp', 8);
    for (const id of orderIds) await openDispatch(db, id, 3_000);
    // Eight calls: Postgres keeps the generic plan after the fifth.
    for (const [i, orderId] of orderIds.entries()) {
      const [made] = await createOffers(db, [{ offer: { id: `kp-o${i}`, order_id: orderId, rider_id: `kp-r${i}`, distance_m: 100, expected_earning: 3_000, expires_at: new Date(Date.now() + 60_000) }, radiusMeters: 3_000 }]);
      assert.equal(made!.kind, 'offered');
    }
    const { rows } = await db.raw(
      `EXPLAIN (FORMAT JSON) EXECUTE "dispatch.create-offers"(
         ARRAY['kp-x'], ARRAY['${orderIds[0]}'], ARRAY['kp-rx'], ARRAY[100::float8], ARRAY[3000], ARRAY[now() + interval '1 minute'], ARRAY['{}'::jsonb],
         ARRAY[NULL::text], ARRAY[NULL::text], ARRAY[NULL::text], ARRAY[NULL::text], ARRAY[NULL::text], ARRAY[NULL::jsonb], ARRAY[NULL::jsonb], ARRAY[3000])`,
    );
    const plan = (rows[0]['QUERY PLAN'] as Array<{ Plan: Record<string, unknown> }>)[0]!.Plan;
    assert.deepEqual(seqScans(plan), [], JSON.stringify(plan).slice(0, 2_000));
    // The dispatches still count the offers made.
    const counted = await db('dispatches').whereIn('order_id', orderIds).select('status', 'offers_in_round');
    assert.ok(counted.length === 8 && counted.every((d) => d.status === 'OFFERED' && d.offers_in_round === 1), JSON.stringify(counted));
  });

  it('the accept statement, planned while dispatches are few, reads no table whole', async () => {
    const { db } = bed.platform;
    const orderIds = await bed.orders('ka', 8);
    for (const id of orderIds) await openDispatch(db, id, 3_000);
    await createOffers(db, orderIds.map((orderId, i) => ({ offer: { id: `ka-o${i}`, order_id: orderId, rider_id: `ka-r${i}`, distance_m: 100, expected_earning: 3_000, expires_at: new Date(Date.now() + 60_000) }, radiusMeters: 3_000 })));
    for (const [i, orderId] of orderIds.entries()) {
      const [result] = await acceptOffers(db, [{ offerId: `ka-o${i}`, riderId: `ka-r${i}` }]);
      assert.equal(result!.kind === 'accepted' && result!.orderId, orderId);
    }
    const { rows } = await db.raw(`EXPLAIN (FORMAT JSON) EXECUTE "dispatch.accept-offers"(ARRAY['ka-x'], ARRAY['ka-rx'])`);
    const plan = (rows[0]['QUERY PLAN'] as Array<{ Plan: Record<string, unknown> }>)[0]!.Plan;
    assert.deepEqual(seqScans(plan), [], JSON.stringify(plan).slice(0, 2_000));
  });
});
