import type { Knex } from 'knex';
import { splitTaken } from './gift-sends-repository.ts';
import type { GiftRow } from './gifts-repository.ts';
import type { NewDelivery, SentResult } from './notification-deliveries-repository.ts';

export interface LockOutcome {
  /** Due SCHEDULED gifts this transaction now holds (among `ids`, and any extra ones). */
  locked: GiftRow[];
  /** The rest of `ids` as they stood: held or sent by someone else, not due, cancelled, missing. */
  others: Map<string, GiftRow>;
}

/**
 * Takes the row locks of due SCHEDULED gifts for a held send (see gifts/sender.ts), without
 * writing a row version: `FOR UPDATE SKIP LOCKED`, the asked-for gifts and up to `extra` other due
 * ones (oldest first). A lock is not a claim on record: should the transaction end without
 * {@link recordHeldSends}, the gifts are SCHEDULED as before. Rows held by another send or by a
 * cancel are skipped, never waited for, so overlapping sends cannot deadlock each other or a cancel.
 */
export async function lockDueGifts(trx: Knex.Transaction, ids: string[], options: { extra: number; earlyToleranceMs: number }): Promise<LockOutcome> {
  const { rows } = await trx.raw<{ rows: Array<GiftRow & { taken_now: boolean }> }>(
    `WITH own AS (SELECT DISTINCT unnest(?::text[]) AS id),
     mine AS (
       SELECT g.* FROM gifts g JOIN own o ON o.id = g.id
        WHERE g.status = 'SCHEDULED' AND g.send_at <= now() + (? * interval '1 millisecond') FOR UPDATE OF g SKIP LOCKED),
     extra AS (
       SELECT * FROM gifts WHERE ? > 0 AND status = 'SCHEDULED' AND send_at <= now() AND id <> ALL(?::text[])
        ORDER BY send_at LIMIT ? FOR UPDATE SKIP LOCKED)
     SELECT true AS taken_now, * FROM mine
     UNION ALL SELECT true AS taken_now, * FROM extra
     UNION ALL SELECT false AS taken_now, g.* FROM gifts g JOIN own o ON o.id = g.id WHERE g.id NOT IN (SELECT id FROM mine)`,
    [ids, options.earlyToleranceMs, options.extra, ids, options.extra] as unknown as Knex.RawBinding[],
  );
  const { taken: locked, others } = splitTaken(rows);
  return { locked, others };
}

export interface HeldSend {
  giftId: string;
  code: string;
  linkToken: string;
  expiresAt: Date;
  remindD3At: Date | null;
  remindD1At: Date | null;
  /** The recipient's message, as handed to the provider. */
  message: NewDelivery;
  /** How the provider took it: sent, or the error and whether a retry may still deliver it. */
  outcome: { sent: SentResult } | { error: string; provider: string; permanent: boolean };
}

/**
 * The gift side of a held send, in one statement of the transaction that holds the gifts' locks:
 * the part that must be on record before the locks go, because it is what makes the send
 * exactly-once and what a cancel, a second batch or `GET /v1/gifts/:id` read.
 * - each gift gets its code, link token, delivery id and validity, and becomes SENT if its message
 *   went out (its `sent_at` the moment of this statement, after the provider took the message),
 *   SENDING if it did not;
 * - a message that did not go out is written whole here (its SENDING step, its delivery row as
 *   retrying or failed), so that the channel queue's retries and the settle sweep find it;
 * - a message that went out has nothing more written here: its delivery row, its history steps
 *   and the sender's notice are {@link recordDelivered}'s, after the commit, off the critical path.
 * The update is still conditional on SCHEDULED, which the locks guarantee (`from: 'SENT'`: a staged
 * send's gifts, written SENT by the same transaction before their messages failed, see
 * gifts/staged-delivery.ts). Returns the sent
 * gifts' `claimed_at` and `sent_at` as written, for the record that follows.
 */
export async function markHeldSends(trx: Knex.Transaction, sends: HeldSend[], options: { from?: 'SCHEDULED' | 'SENT' } = {}): Promise<Map<string, { claimedAt: Date; sentAt: Date }>> {
  if (sends.length === 0) return new Map();
  const failed = sends.filter((s) => 'error' in s.outcome);
  const failOf = (s: HeldSend) => s.outcome as { error: string; provider: string; permanent: boolean };
  const { rows } = await trx.raw<{ rows: Array<{ id: string; claimed_at: Date; sent_at: Date | null }> }>(
    `WITH r AS (SELECT unnest(?::text[]) AS id, unnest(?::text[]) AS code, unnest(?::text[]) AS token, unnest(?::text[]) AS delivery_id,
                       unnest(?::timestamptz[]) AS expires_at, unnest(?::timestamptz[]) AS d3, unnest(?::timestamptz[]) AS d1, unnest(?::boolean[]) AS sent),
     done AS (
       UPDATE gifts g
          SET status = CASE WHEN r.sent THEN 'SENT' ELSE 'SENDING' END, code = r.code, link_token = r.token, claimed_at = now(),
              sent_at = CASE WHEN r.sent THEN statement_timestamp() END, delivery_id = r.delivery_id,
              expires_at = r.expires_at, remind_d3_at = r.d3, remind_d1_at = r.d1, version = g.version + 1, updated_at = statement_timestamp()
         FROM r WHERE g.id = r.id AND g.status = ?
       RETURNING g.id, g.claimed_at, g.sent_at, r.sent),
     logged AS (INSERT INTO gift_events (gift_id, to_status, actor, reason, at) SELECT id, 'SENDING', 'system:sender', 'due', claimed_at FROM done WHERE NOT sent),
     m AS (SELECT unnest(?::text[]) AS gift_id, unnest(?::text[]) AS id, unnest(?::text[]) AS idempotency_key, unnest(?::text[]) AS event,
                  unnest(?::text[]) AS channel, unnest(?::text[]) AS recipient_key, unnest(?::jsonb[]) AS recipient, unnest(?::jsonb[]) AS data,
                  unnest(?::text[]) AS status, unnest(?::text[]) AS provider, unnest(?::text[]) AS error),
     messages AS (
       INSERT INTO notification_deliveries (id, idempotency_key, event, channel, recipient_key, recipient, data, status, attempts, provider, last_error)
       SELECT m.id, m.idempotency_key, m.event, m.channel, m.recipient_key, m.recipient, m.data, m.status, 1, m.provider, m.error
         FROM m JOIN done ON done.id = m.gift_id
       ON CONFLICT (id) DO NOTHING)
     SELECT id, claimed_at, sent_at FROM done WHERE sent`,
    [
      sends.map((s) => s.giftId), sends.map((s) => s.code), sends.map((s) => s.linkToken), sends.map((s) => s.message.id),
      sends.map((s) => s.expiresAt), sends.map((s) => s.remindD3At), sends.map((s) => s.remindD1At), sends.map((s) => 'sent' in s.outcome),
      options.from ?? 'SCHEDULED',
      failed.map((s) => s.giftId), failed.map((s) => s.message.id), failed.map((s) => s.message.idempotency_key), failed.map((s) => s.message.event),
      failed.map((s) => s.message.channel), failed.map((s) => s.message.recipient_key), failed.map((s) => JSON.stringify(s.message.recipient)), failed.map((s) => JSON.stringify(s.message.data)),
      failed.map((s) => (failOf(s).permanent ? 'failed' : 'retrying')), failed.map((s) => failOf(s).provider), failed.map((s) => failOf(s).error.slice(0, 2_000)),
    ] as unknown as Knex.RawBinding[],
  );
  return new Map(rows.map((r) => [r.id, { claimedAt: r.claimed_at, sentAt: r.sent_at! }]));
}

/** A gift that went out at its first attempt and is SENT on record, with what is still to be written about it. */
export interface DeliveredSend {
  giftId: string;
  claimedAt: Date;
  sentAt: Date;
  /** The recipient's message as handed to the provider, and how the provider took it (unknown when recovered). */
  message: NewDelivery;
  result: SentResult;
  /** What the sender's "발송 완료" names (built with the record, off the critical path). */
  gift: Pick<GiftRow, 'id' | 'sender_id' | 'product_name' | 'recipient_name'>;
  /** When the provider had taken the recipient's message, if known apart from `sentAt` (a staged send's). */
  deliveredAt?: Date;
}

/**
 * A delivered send with the sender's notice, how its first attempt went (none: it goes through the
 * push queue) and when (the senders are told before the record is written, see gifts/recorder.ts).
 */
export type DeliveredRecord = Omit<DeliveredSend, 'gift'> & { notice: NewDelivery & { result?: SentResult; at?: Date } };

/**
 * The bookkeeping of gifts already SENT on record ({@link markHeldSends}), in one statement that
 * may run any time after: the recipients' messages as sent (at the gift's `sent_at`, the moment the
 * send was on record), the SENDING and SENT history steps at the times the gift row holds, and the
 * senders' notices (sent when the provider took them, before this statement). A staged send's
 * stage goes with it. The message row is the gate: it is inserted once (its id is the gift's
 * delivery id), and the history and the notice are written only with it, so running this twice —
 * a live record and a resumed one — writes everything once. Returns the ids of the queued notices
 * written now, for the caller to enqueue.
 */
export async function recordDelivered(db: Knex, sends: DeliveredRecord[]): Promise<string[]> {
  if (sends.length === 0) return [];
  const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));
  const { rows } = await db.raw<{ rows: Array<{ id: string; status: string }> }>(
    `WITH m AS (SELECT unnest(?::text[]) AS gift_id, unnest(?::text[]) AS id, unnest(?::text[]) AS idempotency_key, unnest(?::text[]) AS event,
                       unnest(?::text[]) AS channel, unnest(?::text[]) AS recipient_key, unnest(?::jsonb[]) AS recipient, unnest(?::jsonb[]) AS data,
                       unnest(?::text[]) AS provider, unnest(?::text[]) AS message_id, unnest(?::jsonb[]) AS detail,
                       unnest(?::timestamptz[]) AS claimed_at, unnest(?::timestamptz[]) AS sent_at, unnest(?::timestamptz[]) AS delivered_at),
     messages AS (
       INSERT INTO notification_deliveries (id, idempotency_key, event, channel, recipient_key, recipient, data, status, attempts, provider, provider_message_id, detail, sent_at)
       SELECT m.id, m.idempotency_key, m.event, m.channel, m.recipient_key, m.recipient, m.data, 'sent', 1, m.provider, m.message_id, m.detail, coalesce(m.delivered_at, m.sent_at) FROM m
       ON CONFLICT (id) DO NOTHING
       RETURNING id),
     unstaged AS (DELETE FROM gift_staged_sends s USING m WHERE s.gift_id = m.gift_id),
     done AS (SELECT m.gift_id, m.claimed_at, m.sent_at FROM m JOIN messages USING (id)),
     logged AS (
       INSERT INTO gift_events (gift_id, to_status, actor, reason, at)
       SELECT gift_id, 'SENDING', 'system:sender', 'due', claimed_at FROM done
       UNION ALL SELECT gift_id, 'SENT', 'system:delivery', 'delivered', sent_at FROM done),
     n AS (SELECT unnest(?::text[]) AS gift_id, unnest(?::text[]) AS id, unnest(?::text[]) AS idempotency_key, unnest(?::text[]) AS event,
                  unnest(?::text[]) AS channel, unnest(?::text[]) AS recipient_key, unnest(?::jsonb[]) AS recipient, unnest(?::jsonb[]) AS data,
                  unnest(?::text[]) AS provider, unnest(?::text[]) AS message_id, unnest(?::jsonb[]) AS detail, unnest(?::timestamptz[]) AS told_at)
     INSERT INTO notification_deliveries (id, idempotency_key, event, channel, recipient_key, recipient, data, status, attempts, provider, provider_message_id, detail, sent_at)
     SELECT n.id, n.idempotency_key, n.event, n.channel, n.recipient_key, n.recipient, n.data,
            CASE WHEN n.provider IS NULL THEN 'queued' ELSE 'sent' END, CASE WHEN n.provider IS NULL THEN 0 ELSE 1 END,
            n.provider, n.message_id, n.detail, CASE WHEN n.provider IS NULL THEN NULL ELSE coalesce(n.told_at, statement_timestamp()) END
       FROM n JOIN done ON done.gift_id = n.gift_id
     ON CONFLICT (id) DO NOTHING
     RETURNING id, status`,
    [
      sends.map((s) => s.giftId), sends.map((s) => s.message.id), sends.map((s) => s.message.idempotency_key), sends.map((s) => s.message.event),
      sends.map((s) => s.message.channel), sends.map((s) => s.message.recipient_key), sends.map((s) => JSON.stringify(s.message.recipient)), sends.map((s) => JSON.stringify(s.message.data)),
      sends.map((s) => s.result.provider), sends.map((s) => s.result.providerMessageId ?? null), sends.map((s) => json(s.result.detail)),
      sends.map((s) => s.claimedAt), sends.map((s) => s.sentAt), sends.map((s) => s.deliveredAt ?? null),
      sends.map((s) => s.giftId), sends.map((s) => s.notice.id), sends.map((s) => s.notice.idempotency_key), sends.map((s) => s.notice.event),
      sends.map((s) => s.notice.channel), sends.map((s) => s.notice.recipient_key), sends.map((s) => JSON.stringify(s.notice.recipient)), sends.map((s) => JSON.stringify(s.notice.data)),
      sends.map((s) => s.notice.result?.provider ?? null), sends.map((s) => s.notice.result?.providerMessageId ?? null), sends.map((s) => json(s.notice.result?.detail)),
      sends.map((s) => s.notice.at ?? null),
    ] as unknown as Knex.RawBinding[],
  );
  return rows.filter((r) => r.status === 'queued').map((r) => r.id);
}

/** Of these delivery ids, the ones with no delivery row: gifts SENT whose record was never written. */
export async function unrecordedDeliveries(db: Knex, deliveryIds: string[]): Promise<Set<string>> {
  if (deliveryIds.length === 0) return new Set();
  const { rows } = await db.raw<{ rows: Array<{ id: string }> }>(
    `SELECT i.id FROM unnest(?::text[]) AS i(id) WHERE NOT EXISTS (SELECT 1 FROM notification_deliveries d WHERE d.id = i.id)`,
    [deliveryIds] as unknown as Knex.RawBinding[],
  );
  return new Set(rows.map((r) => r.id));
}

/**
 * Gifts SENT (or since OPENED) between `from` and `to` whose record was never written: no delivery
 * row under the id the gift names (see {@link recordDelivered}). Reads the `gifts_sent_at` index.
 */
export async function unrecordedSentGifts(db: Knex, window: { from: Date; to: Date; limit: number }): Promise<Array<Pick<GiftRow, 'id' | 'send_at' | 'status'>>> {
  const { rows } = await db.raw<{ rows: Array<Pick<GiftRow, 'id' | 'send_at' | 'status'>> }>(
    `SELECT g.id, g.send_at, g.status FROM gifts g
      WHERE g.status IN ('SENT','OPENED') AND g.sent_at BETWEEN ? AND ? AND g.delivery_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM notification_deliveries d WHERE d.id = g.delivery_id)
      ORDER BY g.sent_at LIMIT ?`,
    [window.from, window.to, window.limit],
  );
  return rows;
}
