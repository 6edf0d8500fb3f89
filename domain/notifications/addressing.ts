import { createHash } from 'node:crypto';
import type { Channel, Recipient } from '../../notifications/provider.ts';

/**
 * The address a channel uses for a recipient, as `kind:value`: push reaches a user's devices,
 * SMS a phone, email a mailbox, KakaoTalk a Kakao id (or the phone). Undefined when the
 * recipient has no address for that channel.
 */
export function recipientKey(channel: Channel, recipient: Recipient): string | undefined {
  switch (channel) {
    case 'push':
      return recipient.userId ? `user:${recipient.userId}` : undefined;
    case 'sms':
      return recipient.phone ? `phone:${recipient.phone.replace(/[\s-]/g, '')}` : undefined;
    case 'email':
      return recipient.email ? `email:${recipient.email.trim().toLowerCase()}` : undefined;
    case 'kakao':
      if (recipient.kakaoId) return `kakao:${recipient.kakaoId}`;
      return recipient.phone ? `phone:${recipient.phone.replace(/[\s-]/g, '')}` : undefined;
  }
}

/**
 * One delivery per (idempotency key, event, recipient address, channel), named by a hash so that
 * every producer computes the same id: it is the BullMQ job id and the row's primary key.
 */
export function deliveryId(idempotencyKey: string, event: string, key: string, channel: Channel): string {
  return createHash('sha256').update(`${idempotencyKey}\u0000${event}\u0000${key}\u0000${channel}`).digest('hex').slice(0, 32);
}
