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

export interface PaidGift {
  gift: NewGift & { idempotency_key: string | null; request_hash: string | null };
  memo: string;
  confirmation: NewDelivery;
}

/**
 * {@link insertPaidGift} for many reservations of different senders in one statement (one round
 * trip and one commit for all; see gifts/reservation-writer.ts), each exactly as if alone: a
 * sender is debited only if their account exists and has enough, and only those gifts are
 * written; the others come back undefined and take the ledger's own path. The senders' accounts
 * are locked in id order, so two such statements never wait on each other in a cycle. The caller
 * gives each sender at most once (an UPDATE … FROM applies one row per account). A reused
 * Idempotency-Key fails the whole statement, and the caller then writes each one on its own.
 */
export async function insertPaidGifts(db: Knex, items: PaidGift[]): Promise<Array<GiftRow | undefined>> {
  if (items.length === 0) return [];
  const col = <T>(f: (item: PaidGift) => T) => items.map(f);
  const { rows } = await db.raw<{ rows: GiftRow[] }>(
    `WITH i AS (
       SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::int[], ?::int[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
                            ?::text[], ?::timestamptz[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
                            ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::jsonb[], ?::jsonb[])
         AS t(id, sender_id, sender_name, product_id, product_name, price, validity_days, recipient_name, recipient_phone, recipient_kakao_id, recipient_email, channel,
              message, send_at, send_local, time_zone, idempotency_key, request_hash, memo,
              c_id, c_key, c_event, c_channel, c_recipient_key, c_recipient, c_data)),
     locked AS (SELECT user_id FROM credit_accounts WHERE user_id IN (SELECT sender_id FROM i) ORDER BY user_id FOR UPDATE),
     paid AS (
       UPDATE credit_accounts a SET available = a.available - i.price, updated_at = now()
         FROM i WHERE a.user_id = i.sender_id AND a.user_id IN (SELECT user_id FROM locked) AND a.available >= i.price
       RETURNING i.id),
     gift AS (
       INSERT INTO gifts (id, sender_id, sender_name, product_id, product_name, price, validity_days, recipient_name, recipient_phone,
                          recipient_kakao_id, recipient_email, channel, message, send_at, send_local, time_zone, status, idempotency_key, request_hash)
       SELECT i.id, i.sender_id, i.sender_name, i.product_id, i.product_name, i.price, i.validity_days, i.recipient_name, i.recipient_phone,
              i.recipient_kakao_id, i.recipient_email, i.channel, i.message, i.send_at, i.send_local, i.time_zone, 'SCHEDULED', i.idempotency_key, i.request_hash
         FROM i JOIN paid USING (id)
       RETURNING *),
     logged AS (INSERT INTO gift_events (gift_id, to_status, actor, reason) SELECT id, 'SCHEDULED', 'user:' || sender_id, 'reserved' FROM gift),
     entry AS (INSERT INTO credit_ledger (user_id, kind, amount, ref_type, ref_id, memo) SELECT i.sender_id, 'debit', i.price, 'gift', i.id, i.memo FROM i JOIN gift USING (id)),
     told AS (
       INSERT INTO notification_deliveries (id, idempotency_key, event, channel, recipient_key, recipient, data)
       SELECT i.c_id, i.c_key, i.c_event, i.c_channel, i.c_recipient_key, i.c_recipient, i.c_data FROM i JOIN gift USING (id) ON CONFLICT (id) DO NOTHING)
     SELECT * FROM gift`,
    [
      col((x) => x.gift.id), col((x) => x.gift.sender_id), col((x) => x.gift.sender_name), col((x) => x.gift.product_id), col((x) => x.gift.product_name),
      col((x) => x.gift.price), col((x) => x.gift.validity_days), col((x) => x.gift.recipient_name), col((x) => x.gift.recipient_phone),
      col((x) => x.gift.recipient_kakao_id), col((x) => x.gift.recipient_email), col((x) => x.gift.channel), col((x) => x.gift.message),
      col((x) => x.gift.send_at), col((x) => x.gift.send_local), col((x) => x.gift.time_zone), col((x) => x.gift.idempotency_key), col((x) => x.gift.request_hash),
      col((x) => x.memo),
      col((x) => x.confirmation.id), col((x) => x.confirmation.idempotency_key), col((x) => x.confirmation.event), col((x) => x.confirmation.channel),
      col((x) => x.confirmation.recipient_key), col((x) => JSON.stringify(x.confirmation.recipient)), col((x) => JSON.stringify(x.confirmation.data)),
    ] as unknown as Knex.RawBinding[],
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  return items.map((x) => byId.get(x.gift.id));
}
