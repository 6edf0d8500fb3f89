import type { Knex } from 'knex';
import { moveGift, type GiftRow } from '../db/gifts-repository.ts';
import { lastValidDay } from '../domain/gifts/validity.ts';
import { notify } from '../notifications/notify.ts';
import { giftLink, giftRecipient } from './deliver.ts';
import { refundGift } from './payments.ts';
import type { GiftDeps } from './reserve.ts';

/**
 * Expires gifts nobody used and refunds the sender (seed 004: 미사용 시 자동 환불). Exactly once,
 * twice over: the status change is conditional (SENT/OPENED → EXPIRED_REFUNDED) and runs in the
 * same transaction as the refund, whose ledger reference is unique per gift.
 */
export async function expireGifts(deps: GiftDeps, now = new Date(), limit = 1_000): Promise<number> {
  const due = await deps.db<GiftRow>('gifts').whereIn('status', ['SENT', 'OPENED']).where('expires_at', '<=', now).orderBy('expires_at').limit(limit).select('id');
  let expired = 0;
  for (const { id } of due) {
    const gift = await deps.db.transaction(async (trx) => {
      const row = await moveGift(trx, id, { from: ['SENT', 'OPENED'], to: 'EXPIRED_REFUNDED', actor: 'system:expiry', reason: 'not used within its validity', where: (q) => q.where('expires_at', '<=', now) });
      if (row) await refundGift(trx, row);
      return row;
    });
    if (!gift) continue;
    expired++;
    await notify(deps, {
      event: 'gift.expired',
      recipient: { userId: gift.sender_id },
      channels: ['push'],
      data: { giftId: gift.id, productName: gift.product_name, recipientName: gift.recipient_name, refunded: gift.price },
      idempotencyKey: `gift:${gift.id}:expired`,
    });
  }
  return expired;
}

type Which = 'd3' | 'd1';

/**
 * D-3 and D-1 reminders to whoever holds the gift, at the reminder hour of their zone (the times
 * were fixed when the gift was sent, see domain/gifts/validity.ts). Each goes out exactly once:
 * the notification's key (`gift:<id>:d3`) makes a repeated send a no-op, and only then is the
 * reminder marked done, so a crash between the two repeats a no-op rather than losing the reminder.
 * A D-3 whose moment passed together with D-1 (the service was down for days) is skipped, not sent late.
 */
export async function remindHolders(deps: GiftDeps, now = new Date(), limit = 1_000): Promise<{ d3: number; d1: number }> {
  const sent = { d3: 0, d1: 0 };
  for (const which of ['d1', 'd3'] as const) {
    for (const gift of await dueReminders(deps.db, which, now, limit)) {
      const skip = which === 'd3' && gift.remind_d1_at !== null && gift.remind_d1_at.getTime() <= now.getTime();
      if (!skip) {
        await notify(deps, {
          event: 'gift.expiring',
          recipient: giftRecipient(gift),
          channels: [gift.channel],
          data: { giftId: gift.id, productName: gift.product_name, daysLeft: which === 'd3' ? 3 : 1, validUntil: lastValidDay(gift.expires_at!, gift.time_zone), link: giftLink(deps.config, gift.link_token!) },
          idempotencyKey: `gift:${gift.id}:${which}`,
        });
        sent[which]++;
      }
      await deps.db('gifts').where({ id: gift.id }).whereNull(`reminded_${which}_at`).update({ [`reminded_${which}_at`]: now });
    }
  }
  return sent;
}

async function dueReminders(db: Knex, which: Which, now: Date, limit: number): Promise<GiftRow[]> {
  return db<GiftRow>('gifts')
    .whereIn('status', ['SENT', 'OPENED'])
    .where(`remind_${which}_at`, '<=', now)
    .whereNull(`reminded_${which}_at`)
    .where('expires_at', '>', now)
    .orderBy(`remind_${which}_at`)
    .limit(limit)
    .select('*');
}
