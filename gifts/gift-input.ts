import { z } from 'zod';

/**
 * The shapes a sender sends, checked at the edge. Shared by reserve, change and transfer.
 */
export const MESSAGE_MAX_CHARS = 500;

/**
 * Counted in Unicode characters (code points), not UTF-16 units or bytes, after NFC
 * normalisation: 500 Hangul syllables fit whether the keyboard sent them composed or as jamo,
 * and an emoji counts as one. Postgres' char_length counts the same way (a CHECK backs this up).
 */
export const giftMessage = z
  .string()
  .transform((s) => s.normalize('NFC'))
  .refine((s) => [...s].length <= MESSAGE_MAX_CHARS, { message: `at most ${MESSAGE_MAX_CHARS} characters` });

export const giftRecipient = z
  .object({
    name: z.string().trim().min(1).max(50),
    phone: z.string().trim().regex(/^\+?[0-9][0-9 -]{6,18}[0-9]$/, 'a phone number such as 010-1234-5678').optional(),
    kakaoId: z.string().trim().min(1).max(100).optional(),
    email: z.email('an email address').max(254).optional(),
  })
  .refine((r) => r.phone || r.kakaoId || r.email, { message: 'give a phone, a kakaoId or an email', path: ['phone'] });

export const GIFT_CHANNELS = ['kakao', 'sms', 'email'] as const;
export const giftChannel = z.enum(GIFT_CHANNELS, { error: 'one of kakao, sms, email' });

/** `2026-12-25T09:00` or `2026-12-25` (00:00); the zone comes separately. */
export const sendAtText = z.string().max(32);
export const timeZoneText = z.string().max(64);

export type GiftRecipientInput = z.output<typeof giftRecipient>;

/** The recipient field a channel needs, or undefined when the recipient has it. */
export function missingAddress(channel: (typeof GIFT_CHANNELS)[number], r: GiftRecipientInput): { path: string; message: string } | undefined {
  if (channel === 'sms' && !r.phone) return { path: 'recipient.phone', message: 'sms needs a phone number' };
  if (channel === 'email' && !r.email) return { path: 'recipient.email', message: 'email needs an email address' };
  if (channel === 'kakao' && !r.kakaoId && !r.phone) return { path: 'recipient.kakaoId', message: 'kakao needs a kakaoId or a phone number' };
  return undefined;
}
