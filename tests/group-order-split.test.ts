import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { creatorShare, splitShares } from '../domain/group-orders/split.ts';

describe('group-order split (pure)', () => {
  it('follows seed 002, 5.3, with the odd won going to the creator', () => {
    assert.deepEqual(splitShares({ mode: 'SPLIT', creatorMenu: 30_000, joinerMenu: 0, deliveryTip: 3_000 }), { creator: 16_500, joiner: 16_500, total: 33_000 });
    assert.deepEqual(splitShares({ mode: 'SPLIT', creatorMenu: 30_001, joinerMenu: 0, deliveryTip: 3_000 }), { creator: 16_501, joiner: 16_500, total: 33_001 });
    assert.deepEqual(splitShares({ mode: 'EACH', creatorMenu: 18_000, joinerMenu: 9_000, deliveryTip: 3_000 }), { creator: 19_500, joiner: 10_500, total: 30_000 });
    assert.deepEqual(splitShares({ mode: 'EACH', creatorMenu: 18_000, joinerMenu: 9_000, deliveryTip: 2_999 }), { creator: 19_500, joiner: 10_499, total: 29_999 });
    assert.deepEqual(splitShares({ mode: 'EACH', creatorMenu: 18_000, joinerMenu: 9_000, deliveryTip: 0 }), { creator: 18_000, joiner: 9_000, total: 27_000 });
  });

  it('refuses fractions, negatives and a joiner menu in SPLIT', () => {
    assert.throws(() => splitShares({ mode: 'EACH', creatorMenu: 1.5, joinerMenu: 0, deliveryTip: 0 }), RangeError);
    assert.throws(() => splitShares({ mode: 'EACH', creatorMenu: 100, joinerMenu: -1, deliveryTip: 0 }), RangeError);
    assert.throws(() => splitShares({ mode: 'SPLIT', creatorMenu: 100, joinerMenu: 5, deliveryTip: 0 }), RangeError);
  });

  it('for any amounts: shares are whole won, add up to menu(s) + tip, differ by the rule, and the creator’s share is known up front', () => {
    const won = fc.integer({ min: 0, max: 5_000_000 });
    fc.assert(
      fc.property(fc.constantFrom('SPLIT' as const, 'EACH' as const), fc.integer({ min: 1, max: 5_000_000 }), won, won, (mode, creatorMenu, joinerMenuRaw, deliveryTip) => {
        const joinerMenu = mode === 'SPLIT' ? 0 : joinerMenuRaw;
        const s = splitShares({ mode, creatorMenu, joinerMenu, deliveryTip });
        assert.ok(Number.isSafeInteger(s.creator) && Number.isSafeInteger(s.joiner) && s.joiner >= 0);
        assert.equal(s.creator + s.joiner, creatorMenu + joinerMenu + deliveryTip);
        assert.equal(s.total, creatorMenu + joinerMenu + deliveryTip);
        assert.equal(s.creator, creatorShare(mode, creatorMenu, deliveryTip));
        if (mode === 'SPLIT') assert.ok(s.creator - s.joiner === 0 || s.creator - s.joiner === 1);
        else assert.ok(s.creator - creatorMenu - (s.joiner - joinerMenu) === deliveryTip % 2);
      }),
      { numRuns: 2_000 },
    );
  });
});
