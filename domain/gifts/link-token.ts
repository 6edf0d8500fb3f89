import { randomBytes } from 'node:crypto';

/**
 * The secret in a recipient's link (`/g/<token>`): 128 random bits, URL-safe. Whoever holds the
 * link holds the gift, so it must not be guessable or derived from anything else.
 */
export function newLinkToken(): string {
  return randomBytes(16).toString('base64url');
}

/** `n` tokens from one draw of the CSPRNG (a burst claims a thousand gifts at once). */
export function newLinkTokens(n: number): string[] {
  const pool = randomBytes(16 * n);
  return Array.from({ length: n }, (_, i) => pool.subarray(16 * i, 16 * (i + 1)).toString('base64url'));
}

/** Cheap shape check before any lookup: 22 base64url characters. */
export function isLinkTokenShape(value: string): boolean {
  return /^[A-Za-z0-9_-]{22}$/.test(value);
}
