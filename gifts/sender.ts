import type { Knex } from 'knex';
import { loadGifts, type GiftRow } from '../db/gifts-repository.ts';
import { generateGiftCode } from '../domain/gifts/gift-code.ts';
import { newLinkToken } from '../domain/gifts/link-token.ts';
import { giftValidity } from '../domain/gifts/validity.ts';
import { notifyMany } from '../notifications/notify.ts';
import { createBatcher } from '../runtime/batcher.ts';
import { receivedNotice } from './deliver.ts';
import type { GiftDeps } from './reserve.ts';

/** A job may fire this much before the send time on record (clock skew between hosts). */
const EARLY_TOLERANCE_MS = 5_000;

export type SendOutcome = { sent: true; deliveryId: string } | { skipped: string };

export interface GiftSender {
  send(giftId: string): Promise<SendOutcome>;
}

/**
 * Sends due gifts exactly once. The claim is one conditional update, SCHEDULED → SENDING, that
 * also draws the gifticon code and the link token; only the caller whose update matched sends,
 * so a second job, a second worker or a racing cancel cannot make a second send. The message then
 * goes through `notifyMany` (idempotent per holder) and the gift records its delivery, whose row
 * later says SENT or, after three failed attempts, FAILED_REFUNDED (see settle.ts).
 *
 * At 00:00 on a holiday tens of thousands of gifts are due at once, so concurrent jobs are
 * group-committed: one claim statement, one notification insert and one `addBulk` per batch.
 */
export function createGiftSender(deps: GiftDeps): GiftSender {
  const deliverAll = async (gifts: GiftRow[]) => {
    const now = new Date();
    const prepared = gifts.map((gift) => {
      const validity = giftValidity(gift.claimed_at ?? now, gift.validity_days, gift.time_zone, deps.config.gifts.reminderHour);
      return { gift, validity, notice: receivedNotice(deps.config, gift, validity.validUntil) };
    });
    const results = await notifyMany(deps, prepared.map((p) => p.notice));
    const ids = results.map((r) => r.deliveries[0]!.id);
    await recordDeliveries(deps.db, prepared.map((p, i) => ({ id: p.gift.id, deliveryId: ids[i]!, ...p.validity })));
    return ids;
  };
  const claim = createBatcher(
    async (ids: string[]) => {
      const { own, extra } = await claimDue(deps.db, ids);
      // Gifts claimed on behalf of their own jobs go out in this same batch.
      if (extra.length > 0) await deliverAll(extra);
      return own;
    },
    { maxSize: 500, maxWaitMs: 5 },
  );
  const deliver = createBatcher(deliverAll, { maxSize: 500, maxWaitMs: 5 });
  const load = createBatcher((ids: string[]) => loadGifts(deps.db, ids), { maxSize: 500, maxWaitMs: 5 });
  return {
    async send(giftId) {
      let gift = await claim(giftId);
      if (!gift) {
        const current = await load(giftId);
        if (!current) return { skipped: 'no such gift' };
        // A job fired early (its gift was moved later meanwhile): the reconciler adds the right one.
        if (current.status === 'SCHEDULED') return { skipped: `not due until ${current.send_at.toISOString()}` };
        // Claimed by an earlier attempt that died before recording its delivery: finish it (idempotent).
        if (current.status !== 'SENDING') return { skipped: `already ${current.status}` };
        // Claimed and handed to the notifications pool by another job's batch (see claimDue).
        if (current.delivery_id) return { skipped: 'delivered with another batch' };
        gift = current;
      }
      return { sent: true, deliveryId: await deliver(gift) };
    },
  };
}

/** Extra due gifts one claim may take besides its own jobs' (see {@link claimDue}). */
const CLAIM_EXTRA = 500;

/**
 * Claims the due SCHEDULED gifts among `ids` and logs the step; one result per id (undefined if
 * not claimed). In a burst it also claims up to {@link CLAIM_EXTRA} other gifts that are already
 * due, oldest first, and delivers them with its own: at 00:00 the first jobs to run pull the
 * whole minute forward instead of each gift waiting for its own turn in the queue. Their own jobs
 * then find them claimed and finish at once. Rows another worker is claiming are skipped (SKIP
 * LOCKED), and every claim stays conditional on SCHEDULED, so nothing is claimed twice.
 */
async function claimDue(db: Knex, ids: string[]): Promise<{ own: Array<GiftRow | undefined>; extra: GiftRow[] }> {
  return db.transaction(async (trx) => {
    const { rows: extraIds } = await trx.raw<{ rows: Array<{ id: string }> }>(
      `SELECT id FROM gifts WHERE status = 'SCHEDULED' AND send_at <= now() AND id <> ALL(?::text[]) ORDER BY send_at LIMIT ? FOR UPDATE SKIP LOCKED`,
      [ids, CLAIM_EXTRA] as unknown as Knex.RawBinding[],
    );
    const all = [...ids, ...extraIds.map((r) => r.id)];
    const { rows } = await trx.raw<{ rows: GiftRow[] }>(
      `WITH input AS (SELECT * FROM unnest(?::text[], ?::text[], ?::text[]) AS v(id, code, token)),
       claimed AS (
         UPDATE gifts g
            SET status = 'SENDING', version = g.version + 1, updated_at = now(), claimed_at = now(), code = i.code, link_token = i.token
           FROM input i
          WHERE g.id = i.id AND g.status = 'SCHEDULED' AND g.send_at <= now() + (? * interval '1 millisecond')
         RETURNING g.*),
       logged AS (INSERT INTO gift_events (gift_id, to_status, actor, reason) SELECT id, 'SENDING', 'system:sender', 'due' FROM claimed)
       SELECT * FROM claimed`,
      [all, all.map(() => generateGiftCode()), all.map(() => newLinkToken()), EARLY_TOLERANCE_MS] as unknown as Knex.RawBinding[],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    const own = new Set(ids);
    return { own: ids.map((id) => byId.get(id)), extra: rows.filter((r) => !own.has(r.id)) };
  });
}

async function recordDeliveries(
  db: Knex,
  rows: Array<{ id: string; deliveryId: string; expiresAt: Date; remindD3At: Date | null; remindD1At: Date | null }>,
): Promise<void> {
  await db.raw(
    `UPDATE gifts g SET delivery_id = r.delivery_id, expires_at = r.expires_at, remind_d3_at = r.d3, remind_d1_at = r.d1
       FROM (SELECT unnest(?::text[]) AS id, unnest(?::text[]) AS delivery_id, unnest(?::timestamptz[]) AS expires_at,
                    unnest(?::timestamptz[]) AS d3, unnest(?::timestamptz[]) AS d1) r
      WHERE g.id = r.id`,
    [rows.map((r) => r.id), rows.map((r) => r.deliveryId), rows.map((r) => r.expiresAt), rows.map((r) => r.remindD3At), rows.map((r) => r.remindD1At)] as unknown as Knex.RawBinding[],
  );
}
