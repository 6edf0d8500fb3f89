import type { Knex } from 'knex';
import type { GiftRow, NewGift } from './gifts-repository.ts';
import type { NewDelivery } from './notification-deliveries-repository.ts';

/**
 * The common reservation in one statement, so one round trip and one commit: the sender's
 * account pays (only if it exists and has enough), and only then the gift, its first history
 * step, the ledger entry and the sender's confirmation record are written. The statement is
 * atomic: a reused Idempotency-Key (unique index) undoes the debit with everything else.
 * Undefined when nothing was written — no account yet (the welcome grant comes first) or not
 * enough credits — and the caller takes the general path through the ledger.
 */
export async function insertPaidGift(
  db: Knex,
  gift: NewGift & { idempotency_key: string | null; request_hash: string | null },
  debit: { memo: string },
  confirmation: NewDelivery,
): Promise<GiftRow | undefined> {
  const { rows } = await db.raw<{ rows: GiftRow[] }>(
    `WITH paid AS (
       UPDATE credit_accounts SET available = available - ?, updated_at = now()
        WHERE user_id = ? AND available >= ? RETURNING user_id),
     gift AS (
       INSERT INTO gifts (id, sender_id, sender_name, product_id, product_name, price, validity_days, recipient_name, recipient_phone,
                          recipient_kakao_id, recipient_email, channel, message, send_at, send_local, time_zone, status, idempotency_key, request_hash)
       SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'SCHEDULED', ?, ? FROM paid
       RETURNING *),
     logged AS (INSERT INTO gift_events (gift_id, to_status, actor, reason) SELECT id, 'SCHEDULED', 'user:' || sender_id, 'reserved' FROM gift),
     entry AS (INSERT INTO credit_ledger (user_id, kind, amount, ref_type, ref_id, memo) SELECT sender_id, 'debit', price, 'gift', id, ? FROM gift),
     told AS (
       INSERT INTO notification_deliveries (id, idempotency_key, event, channel, recipient_key, recipient, data)
       SELECT ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb FROM gift ON CONFLICT (id) DO NOTHING)
     SELECT * FROM gift`,
    [
      gift.price, gift.sender_id, gift.price,
      gift.id, gift.sender_id, gift.sender_name, gift.product_id, gift.product_name, gift.price, gift.validity_days, gift.recipient_name, gift.recipient_phone,
      gift.recipient_kakao_id, gift.recipient_email, gift.channel, gift.message, gift.send_at, gift.send_local, gift.time_zone, gift.idempotency_key, gift.request_hash,
      debit.memo,
      confirmation.id, confirmation.idempotency_key, confirmation.event, confirmation.channel, confirmation.recipient_key, JSON.stringify(confirmation.recipient), JSON.stringify(confirmation.data),
    ] as unknown as Knex.RawBinding[],
  );
  return rows[0];
}

export async function findGiftByIdempotencyKey(db: Knex, senderId: string, key: string): Promise<GiftRow | undefined> {
  return db<GiftRow>('gifts').where({ sender_id: senderId, idempotency_key: key }).first();
}
