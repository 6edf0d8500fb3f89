import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quickTransitionBody, transitionBody } from '../api/routes/transition-body.ts';

/** The hand-written fast path of a status change may only accept what its zod schema accepts, and returns what zod returns. */
describe('transition body fast path agrees with the schema', () => {
  const check = (body: unknown) => {
    const quick = quickTransitionBody(JSON.parse(JSON.stringify(body)));
    const zod = transitionBody.safeParse(JSON.parse(JSON.stringify(body)));
    if (quick !== undefined) {
      assert.ok(zod.success, `fast path accepted what zod rejects: ${JSON.stringify(body)}`);
      assert.equal(JSON.stringify(quick), JSON.stringify(zod.data), 'same value, same keys in the same order');
    }
    return { quick, zod };
  };

  it('takes the common bodies itself, with what zod returns', () => {
    for (const body of [
      { to: 'COOKING', cookMinutes: 15 },
      { to: 'PICKED_UP' },
      { to: 'DELIVERED', expectedVersion: 5 },
      { to: 'CANCELLED', reason: '고객 요청' },
      { to: 'COOKING', cookMinutes: 180, reason: 'r'.repeat(500), expectedVersion: 1 },
      { to: 'COOKING', cookMinutes: 1 },
    ]) {
      const { quick, zod } = check(body);
      assert.ok(zod.success);
      assert.ok(quick, `fast path took ${JSON.stringify(body)}`);
    }
  });

  it('never accepts what zod rejects, and leaves doubtful bodies to zod', () => {
    const bodies: unknown[] = [
      null,
      [],
      'COOKING',
      {},
      { to: 'cooking' },
      { to: 'NOPE' },
      { to: 'COOKING', cookMinutes: 0 },
      { to: 'COOKING', cookMinutes: 181 },
      { to: 'COOKING', cookMinutes: 1.5 },
      { to: 'COOKING', cookMinutes: '15' },
      { to: 'COOKING', cookMinutes: null },
      { to: 'CANCELLED', reason: '' },
      { to: 'CANCELLED', reason: '   ' },
      { to: 'CANCELLED', reason: 'r'.repeat(501) },
      { to: 'CANCELLED', reason: 5 },
      { to: 'DELIVERED', expectedVersion: 0 },
      { to: 'DELIVERED', expectedVersion: 2 ** 60 },
      { to: 'DELIVERED', expectedVersion: -1 },
    ];
    for (const body of bodies) assert.equal(check(body).quick, undefined, JSON.stringify(body));
    // Valid, but for zod to shape (trimming, unknown keys dropped): the fast path stays out.
    for (const body of [{ to: 'CANCELLED', reason: '  trimmed  ' }, { to: 'PICKED_UP', extra: 1 }]) {
      const { quick, zod } = check(body);
      assert.ok(zod.success);
      assert.equal(quick, undefined);
    }
  });
});
