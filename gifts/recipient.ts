import { findGiftByToken, moveGift, updateGift, type GiftChannel, type GiftRow } from '../db/gifts-repository.ts';
import { generateGiftCode, parseGiftCode } from '../domain/gifts/gift-code.ts';
import { newLinkToken } from '../domain/gifts/link-token.ts';
import { isValidTimeZone } from '../domain/gifts/send-time.ts';
import { HELD_BY_RECIPIENT } from '../domain/gifts/status.ts';
import { giftValidity, lastValidDay } from '../domain/gifts/validity.ts';
import { notify } from '../notifications/notify.ts';
import { receivedNotice } from './deliver.ts';
import { missingAddress, type GiftRecipientInput } from './gift-input.ts';
import { afterCommit, type GiftDeps } from './reserve.ts';

export type LinkResult =
  | { kind: 'ok'; gift: GiftRow }
  | { kind: 'not-found' }
  /** The link was handed on: it no longer opens anything. */
  | { kind: 'gone'; message: string }
  | { kind: 'conflict'; message: string; gift: GiftRow }
  | { kind: 'invalid'; path: string; message: string };

const RECIPIENT = 'recipient';

/** Whoever has the link holds the gift: SENDING too, since the link only exists in the delivered message. */
const HOLDING = ['SENDING', ...HELD_BY_RECIPIENT] as const;

async function byToken(deps: Pick<GiftDeps, 'db'>, token: string): Promise<{ kind: 'ok'; gift: GiftRow } | { kind: 'not-found' } | { kind: 'gone'; message: string }> {
  const found = await findGiftByToken(deps.db, token);
  // Only sent gifts have links; anything else is indistinguishable from a wrong link.
  if (!found) return { kind: 'not-found' };
  if (!found.current) return { kind: 'gone', message: 'this gift was passed on to someone else; this link no longer works' };
  return { kind: 'ok', gift: found.gift };
}

/**
 * The recipient opens the link. The first opening marks the gift OPENED and tells the sender
 * (seed 004: 수령 확인). A link opened before the delivery sweep has recorded SENT (the message
 * arrived moments ago) records SENT first, so the history keeps every step.
 */
export async function openGift(deps: GiftDeps, token: string): Promise<LinkResult> {
  const found = await byToken(deps, token);
  if (found.kind !== 'ok') return found;
  let gift = found.gift;
  if (gift.status !== 'SENDING' && gift.status !== 'SENT') return { kind: 'ok', gift };
  const opened = await deps.db.transaction(async (trx) => {
    await moveGift(trx, gift.id, { from: ['SENDING'], to: 'SENT', actor: RECIPIENT, reason: 'link opened', set: { sent_at: new Date() } });
    return moveGift(trx, gift.id, { from: ['SENT'], to: 'OPENED', actor: RECIPIENT, reason: 'link opened', set: { opened_at: new Date() } });
  });
  if (!opened) return { kind: 'ok', gift: (await findGiftByToken(deps.db, token))?.gift ?? gift };
  gift = opened;
  await afterCommit(deps, gift, 'tell sender', () =>
    notify(deps, {
      event: 'gift.opened',
      recipient: { userId: gift.sender_id },
      channels: ['push'],
      data: { giftId: gift.id, productName: gift.product_name, recipientName: gift.recipient_name },
      idempotencyKey: `gift:${gift.id}:opened:${gift.transfer_count}`,
    }),
  );
  return { kind: 'ok', gift };
}

function usable(gift: GiftRow, now: Date): string | undefined {
  if (gift.status === 'USED') return `the gift was already used at ${gift.used_at?.toISOString()}`;
  if (!HOLDING.includes(gift.status)) return `the gift is ${gift.status} and cannot be used`;
  if (gift.expires_at && gift.expires_at.getTime() <= now.getTime()) return `the gift expired: it was valid through ${lastValidDay(gift.expires_at, gift.time_zone)}`;
  return undefined;
}

/**
 * Uses the gift (at a shop, or in the app), once, within its validity. A code, when given, must
 * match the gift's; its check digit catches a mistyped one before comparing.
 */
export async function redeemGift(deps: GiftDeps, token: string, input: { code?: string }, now = new Date()): Promise<LinkResult> {
  const found = await byToken(deps, token);
  if (found.kind !== 'ok') return found;
  if (input.code !== undefined) {
    const parsed = parseGiftCode(input.code);
    if (!parsed.ok) return { kind: 'invalid', path: 'code', message: parsed.reason };
    if (parsed.code !== found.gift.code) return { kind: 'invalid', path: 'code', message: 'this code belongs to another gift' };
  }
  const why = usable(found.gift, now);
  if (why) return { kind: 'conflict', message: why, gift: found.gift };
  const used = await deps.db.transaction((trx) =>
    moveGift(trx, found.gift.id, {
      from: ['SENDING', 'SENT', 'OPENED'],
      to: 'USED',
      actor: RECIPIENT,
      reason: 'redeemed',
      set: { used_at: now },
      where: (q) => q.where('link_token', token).where('expires_at', '>', now),
    }),
  );
  if (!used) {
    const again = (await findGiftByToken(deps.db, token))?.gift ?? found.gift;
    return { kind: 'conflict', message: usable(again, now) ?? 'the gift changed meanwhile; try again', gift: again };
  }
  return { kind: 'ok', gift: used };
}

export interface TransferInput {
  recipient: GiftRecipientInput;
  channel: GiftChannel;
  /** The new holder's zone, for reminders; default the gift's. */
  timeZone?: string;
}

/**
 * Hands the gift to someone else, once, before it is used (seed 004: 사용 전 양도 1회). The new
 * holder gets a new link and a new code; the old link stops working and the old code no longer
 * matches, so the giver cannot use what they gave away. Validity does not restart.
 */
export async function transferGift(deps: GiftDeps, token: string, input: TransferInput, now = new Date()): Promise<LinkResult> {
  const found = await byToken(deps, token);
  if (found.kind !== 'ok') return found;
  const gift = found.gift;
  const missing = missingAddress(input.channel, input.recipient);
  if (missing) return { kind: 'invalid', ...missing };
  if (input.timeZone !== undefined && !isValidTimeZone(input.timeZone)) return { kind: 'invalid', path: 'timeZone', message: 'an IANA time zone such as Asia/Seoul' };
  if (gift.transfer_count > 0) return { kind: 'conflict', message: 'a gift can be passed on only once, and this one already was', gift };
  const why = usable(gift, now);
  if (why) return { kind: 'conflict', message: why, gift };
  const zone = input.timeZone ?? gift.time_zone;
  // Reminders follow the new holder's zone; the expiry instant stays what was promised.
  const reminders = giftValidity(gift.claimed_at ?? now, gift.validity_days, zone, deps.config.gifts.reminderHour);
  const future = (d: Date | null) => (d && d.getTime() > now.getTime() ? d : null);
  const moved = await deps.db.transaction((trx) =>
    updateGift(trx, gift.id, {
      status: HOLDING,
      version: gift.version,
      actor: RECIPIENT,
      reason: `passed on to ${input.recipient.name}`,
      set: {
        recipient_name: input.recipient.name,
        recipient_phone: input.recipient.phone ?? null,
        recipient_kakao_id: input.recipient.kakaoId ?? null,
        recipient_email: input.recipient.email ?? null,
        channel: input.channel,
        time_zone: zone,
        transfer_count: 1,
        previous_link_token: token,
        link_token: newLinkToken(),
        code: generateGiftCode(),
        remind_d3_at: gift.reminded_d3_at ? gift.remind_d3_at : future(reminders.remindD3At),
        remind_d1_at: gift.reminded_d1_at ? gift.remind_d1_at : future(reminders.remindD1At),
      },
    }),
  );
  if (!moved) {
    const again = (await findGiftByToken(deps.db, token))?.gift ?? gift;
    return { kind: 'conflict', message: again.transfer_count > 0 ? 'a gift can be passed on only once, and this one already was' : 'the gift changed meanwhile; try again', gift: again };
  }
  await afterCommit(deps, moved, 'deliver to new holder', () => notify(deps, receivedNotice(deps.config, moved, lastValidDay(moved.expires_at!, moved.time_zone))));
  return { kind: 'ok', gift: moved };
}
