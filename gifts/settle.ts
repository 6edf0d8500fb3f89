import type { Knex } from 'knex';
import { moveGift, type GiftRow } from '../db/gifts-repository.ts';
import { notify, notifyMany } from '../notifications/notify.ts';
import { sentNotice } from './deliver.ts';
import { refundGift } from './payments.ts';
import type { GiftDeps } from './reserve.ts';

/**
 * Turns the outcome of each gift's delivery into the gift's status. The notifications pool owns
 * delivery and its 3 attempts; its `notification_deliveries` row is the record of how it went
 * (`sent`, or `failed` once the last attempt has failed — the dead letter). This sweep reads those
 * rows instead of hooking into the notification worker, so notifications stay unaware of gifts
 * and a crash anywhere is repaired by the next run:
 * - delivered → SENT, and the sender is told (seed 004: 발송 완료); a gift whose first attempt,
 *   made by the gift worker, went out is already SENT and its sender told by that worker
 *   (see sender.ts), so this handles only what went through the channel queue;
 * - failed for good → FAILED_REFUNDED with the refund in the same transaction, and the sender is told.
 */
export async function settleSends(deps: GiftDeps, options: { limit?: number } = {}): Promise<{ sent: number; failed: number }> {
  const limit = options.limit ?? 10_000;
  const sent = await markDelivered(deps.db, limit);
  if (sent.length > 0) {
    await notifyMany(deps, sent.map(sentNotice));
  }
  let failed = 0;
  for (const gift of await failedDeliveries(deps.db, 500)) {
    const moved = await deps.db.transaction(async (trx) => {
      const row = await moveGift(trx, gift.id, { from: ['SENDING'], to: 'FAILED_REFUNDED', actor: 'system:delivery', reason: `delivery failed: ${gift.last_error ?? 'unknown error'}`.slice(0, 500) });
      if (row) await refundGift(trx, row);
      return row;
    });
    if (!moved) continue;
    failed++;
    await notify(deps, {
      event: 'gift.failed',
      recipient: { userId: moved.sender_id },
      channels: ['push'],
      data: { giftId: moved.id, productName: moved.product_name, recipientName: moved.recipient_name, refunded: moved.price },
      idempotencyKey: `gift:${moved.id}:failed`,
    });
  }
  return { sent: sent.length, failed };
}

async function markDelivered(db: Knex, limit: number): Promise<GiftRow[]> {
  const { rows } = await db.raw<{ rows: GiftRow[] }>(
    `WITH picked AS (
       SELECT g.id, d.sent_at FROM gifts g JOIN notification_deliveries d ON d.id = g.delivery_id
        WHERE g.status = 'SENDING' AND d.status = 'sent'
        LIMIT ? FOR UPDATE OF g SKIP LOCKED),
     done AS (
       UPDATE gifts g SET status = 'SENT', sent_at = p.sent_at, version = g.version + 1, updated_at = now()
         FROM picked p WHERE g.id = p.id AND g.status = 'SENDING'
       RETURNING g.*),
     logged AS (INSERT INTO gift_events (gift_id, to_status, actor, reason, at) SELECT id, 'SENT', 'system:delivery', 'delivered', sent_at FROM done)
     SELECT * FROM done`,
    [limit],
  );
  return rows;
}

async function failedDeliveries(db: Knex, limit: number): Promise<Array<Pick<GiftRow, 'id'> & { last_error: string | null }>> {
  return db('gifts as g')
    .join('notification_deliveries as d', 'd.id', 'g.delivery_id')
    .where('g.status', 'SENDING')
    .where('d.status', 'failed')
    .limit(limit)
    .select('g.id', 'd.last_error');
}
