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
 * The whole of a held send on record, in one statement of the transaction that holds the gifts'
 * locks, so each gift is written once at its instant instead of claimed (SENDING) and then
 * recorded (SENT):
 * - each gift gets its code, link token, delivery and validity, and becomes SENT if its message
 *   went out, SENDING if it did not (the channel queue's retries, then the settle sweep, go on
 *   from there); its history gets the SENDING step and, when sent, the SENT step;
 * - the recipients' messages are written as they ended: sent, retrying or failed;
 * - the senders' "발송 완료" notices are written for the sent gifts, as sent (their first attempt
 *   was just made) or queued.
 * The update is still conditional on SCHEDULED, which the locks guarantee. Returns the ids of the
 * queued notices, for the caller to enqueue once the transaction has committed.
 */
export async function recordHeldSends(trx: Knex.Transaction, sends: HeldSend[], notices: Array<NewDelivery & { giftId: string; result?: SentResult }>): Promise<string[]> {
  if (sends.length === 0) return [];
  const sentOf = (s: HeldSend) => ('sent' in s.outcome ? s.outcome.sent : undefined);
  const failOf = (s: HeldSend) => ('error' in s.outcome ? s.outcome : undefined);
  const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));
  const { rows } = await trx.raw<{ rows: Array<{ id: string; status: string }> }>(
    `WITH r AS (SELECT unnest(?::text[]) AS id, unnest(?::text[]) AS code, unnest(?::text[]) AS token, unnest(?::text[]) AS delivery_id,
                       unnest(?::timestamptz[]) AS expires_at, unnest(?::timestamptz[]) AS d3, unnest(?::timestamptz[]) AS d1, unnest(?::boolean[]) AS sent),
     done AS (
       UPDATE gifts g
          SET status = CASE WHEN r.sent THEN 'SENT' ELSE 'SENDING' END, code = r.code, link_token = r.token, claimed_at = now(),
              sent_at = CASE WHEN r.sent THEN statement_timestamp() END, delivery_id = r.delivery_id,
              expires_at = r.expires_at, remind_d3_at = r.d3, remind_d1_at = r.d1, version = g.version + 1, updated_at = statement_timestamp()
         FROM r WHERE g.id = r.id AND g.status = 'SCHEDULED'
       RETURNING g.id, r.sent),
     logged AS (
       INSERT INTO gift_events (gift_id, to_status, actor, reason, at)
       SELECT id, 'SENDING', 'system:sender', 'due', now() FROM done
       UNION ALL SELECT id, 'SENT', 'system:delivery', 'delivered', statement_timestamp() FROM done WHERE sent),
     m AS (SELECT unnest(?::text[]) AS gift_id, unnest(?::text[]) AS id, unnest(?::text[]) AS idempotency_key, unnest(?::text[]) AS event,
                  unnest(?::text[]) AS channel, unnest(?::text[]) AS recipient_key, unnest(?::jsonb[]) AS recipient, unnest(?::jsonb[]) AS data,
                  unnest(?::text[]) AS status, unnest(?::text[]) AS provider, unnest(?::text[]) AS message_id, unnest(?::jsonb[]) AS detail, unnest(?::text[]) AS error),
     messages AS (
       INSERT INTO notification_deliveries (id, idempotency_key, event, channel, recipient_key, recipient, data, status, attempts, provider, provider_message_id, detail, last_error, sent_at)
       SELECT m.id, m.idempotency_key, m.event, m.channel, m.recipient_key, m.recipient, m.data, m.status, 1, m.provider, m.message_id, m.detail, m.error,
              CASE WHEN m.status = 'sent' THEN statement_timestamp() END
         FROM m JOIN done ON done.id = m.gift_id
       ON CONFLICT (id) DO NOTHING),
     n AS (SELECT unnest(?::text[]) AS gift_id, unnest(?::text[]) AS id, unnest(?::text[]) AS idempotency_key, unnest(?::text[]) AS event,
                  unnest(?::text[]) AS channel, unnest(?::text[]) AS recipient_key, unnest(?::jsonb[]) AS recipient, unnest(?::jsonb[]) AS data,
                  unnest(?::text[]) AS provider, unnest(?::text[]) AS message_id, unnest(?::jsonb[]) AS detail)
     INSERT INTO notification_deliveries (id, idempotency_key, event, channel, recipient_key, recipient, data, status, attempts, provider, provider_message_id, detail, sent_at)
     SELECT n.id, n.idempotency_key, n.event, n.channel, n.recipient_key, n.recipient, n.data,
            CASE WHEN n.provider IS NULL THEN 'queued' ELSE 'sent' END, CASE WHEN n.provider IS NULL THEN 0 ELSE 1 END,
            n.provider, n.message_id, n.detail, CASE WHEN n.provider IS NULL THEN NULL ELSE statement_timestamp() END
       FROM n JOIN done ON done.id = n.gift_id AND done.sent
     ON CONFLICT (id) DO NOTHING
     RETURNING id, status`,
    [
      sends.map((s) => s.giftId), sends.map((s) => s.code), sends.map((s) => s.linkToken), sends.map((s) => s.message.id),
      sends.map((s) => s.expiresAt), sends.map((s) => s.remindD3At), sends.map((s) => s.remindD1At), sends.map((s) => 'sent' in s.outcome),
      sends.map((s) => s.giftId), sends.map((s) => s.message.id), sends.map((s) => s.message.idempotency_key), sends.map((s) => s.message.event),
      sends.map((s) => s.message.channel), sends.map((s) => s.message.recipient_key), sends.map((s) => JSON.stringify(s.message.recipient)), sends.map((s) => JSON.stringify(s.message.data)),
      sends.map((s) => (sentOf(s) ? 'sent' : failOf(s)!.permanent ? 'failed' : 'retrying')),
      sends.map((s) => sentOf(s)?.provider ?? failOf(s)!.provider), sends.map((s) => sentOf(s)?.providerMessageId ?? null), sends.map((s) => json(sentOf(s)?.detail)),
      sends.map((s) => (failOf(s) ? failOf(s)!.error.slice(0, 2_000) : null)),
      notices.map((n) => n.giftId), notices.map((n) => n.id), notices.map((n) => n.idempotency_key), notices.map((n) => n.event),
      notices.map((n) => n.channel), notices.map((n) => n.recipient_key), notices.map((n) => JSON.stringify(n.recipient)), notices.map((n) => JSON.stringify(n.data)),
      notices.map((n) => n.result?.provider ?? null), notices.map((n) => n.result?.providerMessageId ?? null), notices.map((n) => json(n.result?.detail)),
    ] as unknown as Knex.RawBinding[],
  );
  return rows.filter((r) => r.status === 'queued').map((r) => r.id);
}
