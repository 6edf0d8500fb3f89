import type { GiftRow } from '../db/gifts-repository.ts';
import type { NotifyInput } from '../notifications/notify.ts';
import type { Recipient } from '../notifications/provider.ts';
import type { Config } from '../runtime/config.ts';
import { formatGiftCode } from '../domain/gifts/gift-code.ts';

/** The person a gift goes to, as the notification channels address people. */
export function giftRecipient(gift: Pick<GiftRow, 'recipient_name' | 'recipient_phone' | 'recipient_kakao_id' | 'recipient_email'>): Recipient {
  const r: Recipient = { name: gift.recipient_name };
  if (gift.recipient_phone) r.phone = gift.recipient_phone;
  if (gift.recipient_kakao_id) r.kakaoId = gift.recipient_kakao_id;
  if (gift.recipient_email) r.email = gift.recipient_email;
  return r;
}

export function giftLink(config: Config, token: string): string {
  return `${config.gifts.linkBaseUrl}/g/${token}`;
}

/**
 * The message that carries the gift to its recipient, through the gift's own channel. The key
 * names the holder (a transferred gift is a new delivery to a new person), so repeating the send
 * for the same holder — a retried job, a stalled worker — never sends a second message.
 */
export function receivedNotice(config: Config, gift: GiftRow, validUntil: string): NotifyInput<'gift.received'> {
  return {
    event: 'gift.received',
    recipient: giftRecipient(gift),
    channels: [gift.channel],
    data: { giftId: gift.id, productName: gift.product_name, senderName: gift.sender_name, link: giftLink(config, gift.link_token!), validUntil },
    idempotencyKey: `gift:${gift.id}:received:${gift.transfer_count}`,
  };
}

/** The sender's "발송 완료" (seed 004), once per gift whichever path sends it (the batch, or the settle sweep). */
export function sentNotice(gift: Pick<GiftRow, 'id' | 'sender_id' | 'product_name' | 'recipient_name'>): NotifyInput<'gift.sent'> {
  return {
    event: 'gift.sent',
    recipient: { userId: gift.sender_id },
    channels: ['push'],
    data: { giftId: gift.id, productName: gift.product_name, recipientName: gift.recipient_name },
    idempotencyKey: `gift:${gift.id}:sent`,
  };
}

/** `1234-5678-9012-3456-7897`, or null before the gift is sent. */
export function shownCode(gift: Pick<GiftRow, 'code'>): string | null {
  return gift.code ? formatGiftCode(gift.code) : null;
}
