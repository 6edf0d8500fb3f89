import { randomBytes, randomInt } from 'node:crypto';

/**
 * Gifticon codes: 19 random decimal digits (log2(10^19) ≈ 63.1 bits, from the OS CSPRNG) plus a
 * Luhn check digit, shown as five groups of four (`1234-5678-9012-3456-7897`). Digits because
 * shops type or scan them as barcodes; Luhn because it catches every single-digit typo and almost
 * every swap of two neighbouring digits, so a mistyped code is refused before any lookup.
 * Uniqueness is the database's job (a unique index); a collision is simply drawn again.
 */
export const CODE_RANDOM_DIGITS = 19;
export const CODE_LENGTH = CODE_RANDOM_DIGITS + 1;

/** A fresh code, digits only (store this form; format it for people with {@link formatGiftCode}). */
export function generateGiftCode(random: (max: number) => number = randomInt): string {
  let digits = '';
  for (let i = 0; i < CODE_RANDOM_DIGITS; i++) digits += String(random(10));
  return digits + luhnCheckDigit(digits);
}

/**
 * `n` fresh codes from one draw of the OS CSPRNG: a midnight burst needs a thousand at a time,
 * and 19 `randomInt` calls per code cost more than the rest of the claim. Each random byte below
 * 250 gives one uniform digit (byte % 10); bytes of 250 and up are skipped, so no digit is favoured.
 */
export function generateGiftCodes(n: number, bytes: (size: number) => Buffer = randomBytes): string[] {
  const codes: string[] = [];
  let pool = bytes(Math.ceil(n * CODE_RANDOM_DIGITS * 1.1) + 16);
  let at = 0;
  for (let c = 0; c < n; c++) {
    let digits = '';
    while (digits.length < CODE_RANDOM_DIGITS) {
      if (at === pool.length) {
        pool = bytes(64);
        at = 0;
      }
      const b = pool[at++]!;
      if (b < 250) digits += String(b % 10);
    }
    codes.push(digits + luhnCheckDigit(digits));
  }
  return codes;
}

/** The Luhn digit that makes `digits + check` pass the Luhn test. */
export function luhnCheckDigit(digits: string): string {
  let sum = 0;
  // Walking from the right, the digit next to the (future) check digit is doubled first.
  for (let i = digits.length - 1, double = true; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

/** `12345678901234567897` → `1234-5678-9012-3456-7897`. */
export function formatGiftCode(code: string): string {
  return code.replace(/(\d{4})(?=\d)/g, '$1-');
}

export type ParsedGiftCode = { ok: true; code: string } | { ok: false; reason: string };

/** Accepts what people type (spaces, hyphens) and checks length and check digit. */
export function parseGiftCode(input: string): ParsedGiftCode {
  const code = input.replace(/[\s-]/g, '');
  if (!/^\d+$/.test(code)) return { ok: false, reason: 'a gift code has digits only' };
  if (code.length !== CODE_LENGTH) return { ok: false, reason: `a gift code has ${CODE_LENGTH} digits` };
  if (luhnCheckDigit(code.slice(0, -1)) !== code.slice(-1)) return { ok: false, reason: 'check digit does not match: the code was mistyped' };
  return { ok: true, code };
}
