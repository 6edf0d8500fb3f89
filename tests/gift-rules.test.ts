import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CODE_LENGTH, formatGiftCode, generateGiftCode, generateGiftCodes, luhnCheckDigit, parseGiftCode } from '../domain/gifts/gift-code.ts';
import { isLinkTokenShape, newLinkToken, newLinkTokens } from '../domain/gifts/link-token.ts';
import { checkSendWindow, resolveSendTime } from '../domain/gifts/send-time.ts';
import { canCancel, canModify, canMove } from '../domain/gifts/status.ts';
import { giftValidity, lastValidDay } from '../domain/gifts/validity.ts';
import { giftMessage } from '../gifts/gift-input.ts';

const MIN = 60_000;

describe('gifticon codes', () => {
  it('are 20 digits with a valid Luhn check digit, formatted in groups of four', () => {
    const code = generateGiftCode();
    assert.match(code, /^\d{20}$/);
    assert.equal(code.length, CODE_LENGTH);
    assert.deepEqual(parseGiftCode(code), { ok: true, code });
    assert.match(formatGiftCode(code), /^\d{4}-\d{4}-\d{4}-\d{4}-\d{4}$/);
    assert.deepEqual(parseGiftCode(` ${formatGiftCode(code)} `), { ok: true, code });
  });

  it('carry at least 60 bits from the CSPRNG: 19 random decimal digits', () => {
    assert.ok(19 * Math.log2(10) >= 60);
    const seen = new Set(Array.from({ length: 20_000 }, () => generateGiftCode()));
    assert.equal(seen.size, 20_000, 'no collisions in 20k draws');
    // Every position of the random part takes every digit.
    const codes = [...seen].slice(0, 2_000);
    for (let pos = 0; pos < 19; pos++) assert.equal(new Set(codes.map((c) => c[pos])).size, 10, `position ${pos}`);
  });

  it('drawn in bulk (a burst batch) are the same kind of code: valid, distinct, every digit at every position', () => {
    const codes = generateGiftCodes(20_000);
    assert.equal(codes.length, 20_000);
    for (const code of codes) assert.deepEqual(parseGiftCode(code), { ok: true, code });
    assert.equal(new Set(codes).size, 20_000, 'no collisions in 20k draws');
    for (let pos = 0; pos < 19; pos++) assert.equal(new Set(codes.slice(0, 2_000).map((c) => c[pos])).size, 10, `position ${pos}`);
    // Bytes of 250 and up are skipped, not folded into a digit: a source of only those and then 7s gives 7s.
    let calls = 0;
    const skewed = (size: number) => Buffer.alloc(size, calls++ === 0 ? 255 : 7);
    assert.equal(generateGiftCodes(1, skewed)[0]!.slice(0, 19), '7'.repeat(19));
    const tokens = newLinkTokens(1_000);
    assert.ok(tokens.every(isLinkTokenShape));
    assert.equal(new Set(tokens).size, 1_000);
  });

  it('known Luhn vectors', () => {
    assert.equal(luhnCheckDigit('7992739871'), '3');
    assert.equal(luhnCheckDigit('4539578763621486'.slice(0, -1)), '6');
  });

  it('refuse every single-digit typo and every adjacent swap of different digits', () => {
    const code = generateGiftCode();
    for (let i = 0; i < code.length; i++) {
      for (let d = 0; d < 10; d++) {
        if (String(d) === code[i]) continue;
        const typo = code.slice(0, i) + d + code.slice(i + 1);
        assert.equal(parseGiftCode(typo).ok, false, `typo at ${i}`);
      }
    }
    for (let i = 0; i + 1 < code.length; i++) {
      const [a, b] = [code[i]!, code[i + 1]!];
      // Luhn's one blind spot is swapping 0 and 9.
      if (a === b || (a + b === '09' || a + b === '90')) continue;
      const swapped = code.slice(0, i) + b + a + code.slice(i + 2);
      assert.equal(parseGiftCode(swapped).ok, false, `swap at ${i}`);
    }
  });

  it('say why an input is not a code', () => {
    assert.match((parseGiftCode('1234') as { reason: string }).reason, /20 digits/);
    assert.match((parseGiftCode('abcd-efgh') as { reason: string }).reason, /digits only/);
  });
});

describe('link tokens', () => {
  it('are 128-bit base64url strings, all different', () => {
    const tokens = Array.from({ length: 1_000 }, newLinkToken);
    assert.ok(tokens.every(isLinkTokenShape));
    assert.equal(new Set(tokens).size, 1_000);
  });
});

describe('send time', () => {
  const at = (sendAt: string, zone: string) => {
    const r = resolveSendTime(sendAt, zone);
    assert.ok(r.ok, JSON.stringify(r));
    return r.value;
  };

  it('a date only means 00:00 in that zone', () => {
    const v = at('2026-12-25', 'Asia/Seoul');
    assert.equal(v.at.toISOString(), '2026-12-24T15:00:00.000Z');
    assert.equal(v.dateOnly, true);
    assert.equal(v.kind, 'exact');
  });

  it('date only for a recipient in America/Los_Angeles, whoever sends it: midnight there', () => {
    // A sender in Seoul on 2027-03-19 (KST) reserving the 20th for a friend in LA.
    const v = at('2027-03-20', 'America/Los_Angeles');
    assert.equal(v.at.toISOString(), '2027-03-20T07:00:00.000Z', 'PDT, UTC−7');
    assert.equal(v.local, '2027-03-20T00:00');
    // In Seoul that is 16:00 on the 20th, not midnight of either day.
    assert.equal(new Date(v.at).toLocaleString('sv-SE', { timeZone: 'Asia/Seoul' }), '2027-03-20 16:00:00');
    const winter = at('2026-12-25', 'America/Los_Angeles');
    assert.equal(winter.at.toISOString(), '2026-12-25T08:00:00.000Z', 'PST, UTC−8');
  });

  it('DST gap in America/New_York: 02:30 on 2026-03-08 does not exist and is sent at 03:30 EDT', () => {
    const v = at('2026-03-08T02:30', 'America/New_York');
    assert.equal(v.kind, 'gap');
    assert.equal(v.at.toISOString(), '2026-03-08T07:30:00.000Z');
    // Times either side of the gap are exact.
    assert.equal(at('2026-03-08T01:59', 'America/New_York').at.toISOString(), '2026-03-08T06:59:00.000Z');
    assert.equal(at('2026-03-08T03:00', 'America/New_York').at.toISOString(), '2026-03-08T07:00:00.000Z');
    assert.equal(at('2026-03-08T03:00', 'America/New_York').kind, 'exact');
    // Midnight of the DST day is an ordinary EST midnight.
    assert.equal(at('2026-03-08', 'America/New_York').at.toISOString(), '2026-03-08T05:00:00.000Z');
  });

  it('DST overlap in America/New_York: 01:30 on 2026-11-01 happens twice and is sent the first time (EDT)', () => {
    const v = at('2026-11-01T01:30', 'America/New_York');
    assert.equal(v.kind, 'overlap');
    assert.equal(v.at.toISOString(), '2026-11-01T05:30:00.000Z', 'UTC−4, not UTC−5');
    assert.equal(at('2026-11-01T00:59', 'America/New_York').kind, 'exact');
    assert.equal(at('2026-11-01T02:00', 'America/New_York').at.toISOString(), '2026-11-01T07:00:00.000Z');
  });

  it('Asia/Seoul has no DST: every wall time is exact', () => {
    assert.equal(at('2027-02-14T00:00', 'Asia/Seoul').kind, 'exact');
  });

  it('rejects offsets, bad calendars and unknown zones, naming the field', () => {
    assert.deepEqual(resolveSendTime('2026-12-25T00:00+09:00', 'Asia/Seoul').ok, false);
    const feb = resolveSendTime('2027-02-30', 'Asia/Seoul');
    assert.equal(feb.ok, false);
    assert.equal(!feb.ok && feb.path, 'sendAt');
    const zone = resolveSendTime('2026-12-25', 'Mars/Olympus');
    assert.equal(!zone.ok && zone.path, 'timeZone');
    assert.equal(resolveSendTime('2026-12-25T24:00', 'Asia/Seoul').ok, false);
  });

  it('window: at least 10 minutes and at most 1 year ahead', () => {
    const now = new Date('2026-11-23T12:00:00Z');
    const plus = (ms: number) => new Date(now.getTime() + ms);
    assert.equal(checkSendWindow(plus(9 * MIN), now, 10 * MIN).ok, false);
    assert.equal(checkSendWindow(plus(10 * MIN), now, 10 * MIN).ok, true);
    assert.equal(checkSendWindow(new Date('2027-11-23T12:00:00Z'), now, 10 * MIN).ok, true);
    assert.equal(checkSendWindow(new Date('2027-11-23T12:01:00Z'), now, 10 * MIN).ok, false);
  });
});

describe('validity and reminders', () => {
  it('30 days in the recipient zone: usable through day 30, reminders on D-3 and D-1 at 10:00 local', () => {
    const sent = new Date('2026-12-24T15:00:00Z'); // 2026-12-25 00:00 in Seoul
    const v = giftValidity(sent, 30, 'Asia/Seoul', 10);
    assert.equal(v.validUntil, '2027-01-24');
    assert.equal(v.expiresAt.toISOString(), '2027-01-24T15:00:00.000Z');
    assert.equal(v.remindD3At!.toISOString(), '2027-01-21T01:00:00.000Z');
    assert.equal(v.remindD1At!.toISOString(), '2027-01-23T01:00:00.000Z');
    assert.equal(lastValidDay(v.expiresAt, 'Asia/Seoul'), '2027-01-24');
  });

  it('reminders follow the recipient zone across a DST change', () => {
    const v = giftValidity(new Date('2026-02-20T08:00:00Z'), 14, 'America/Los_Angeles', 10);
    assert.equal(v.validUntil, '2026-03-06');
    assert.equal(v.remindD1At!.toISOString(), '2026-03-05T18:00:00.000Z', '10:00 PST');
    const after = giftValidity(new Date('2026-03-01T08:00:00Z'), 14, 'America/Los_Angeles', 10);
    assert.equal(after.remindD1At!.toISOString(), '2026-03-14T17:00:00.000Z', '10:00 PDT');
  });

  it('a reminder already in the past when sent is left out', () => {
    const v = giftValidity(new Date('2026-12-24T15:00:00Z'), 2, 'Asia/Seoul', 10);
    assert.equal(v.remindD3At, null);
    assert.notEqual(v.remindD1At, null);
  });
});

describe('gift status rules', () => {
  it('moves only along the documented paths', () => {
    assert.ok(canMove('SCHEDULED', 'SENDING'));
    assert.ok(canMove('SCHEDULED', 'CANCELLED'));
    assert.ok(!canMove('SENDING', 'CANCELLED'));
    assert.ok(canMove('OPENED', 'USED'));
    assert.ok(!canMove('USED', 'EXPIRED_REFUNDED'));
  });

  it('changes close an hour before the send time and say why', () => {
    const sendAt = new Date('2026-12-24T15:00:00Z');
    assert.deepEqual(canModify({ status: 'SCHEDULED', sendAt }, new Date(sendAt.getTime() - 61 * MIN), 60 * MIN), { ok: true });
    const late = canModify({ status: 'SCHEDULED', sendAt }, new Date(sendAt.getTime() - 59 * MIN), 60 * MIN);
    assert.equal(late.ok, false);
    assert.match((late as { reason: string }).reason, /60 minutes before sending/);
    assert.equal(canCancel({ status: 'SENDING' }).ok, false);
  });

  it('messages count Unicode characters: 500 Hangul syllables pass, 501 do not, jamo input included', () => {
    const hangul = '가'.repeat(500);
    assert.equal(giftMessage.safeParse(hangul).success, true);
    assert.equal(giftMessage.safeParse(hangul + '나').success, false);
    // Decomposed jamo (NFD) are 2–3 code points per syllable until normalised.
    assert.equal(giftMessage.safeParse('한'.repeat(500).normalize('NFD')).success, true);
    // An emoji is one character, though two UTF-16 units.
    assert.equal(giftMessage.safeParse('🎂'.repeat(500)).success, true);
  });
});
