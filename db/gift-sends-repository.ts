import type { Knex } from 'knex';
import type { GiftRow } from './gifts-repository.ts';
import type { NewDelivery, SentResult } from './notification-deliveries-repository.ts';

export interface ClaimOptions {
  /** Other due gifts this claim may take besides `ids` (0: only `ids`). */
  extra: number;
  /** A gift may be claimed this long before its send time (clock skew between hosts). */
  earlyToleranceMs: number;
  /** A fresh gifticon code and link token per gift that may be claimed. */
  secrets: (n: number) => { codes: string[]; tokens: string[] };
}

export interface ClaimOutcome {
  /** Gifts this statement moved SCHEDULED → SENDING (among `ids`, and any extra ones). */
  claimed: GiftRow[];
  /** The rest of `ids` as they stood: claimed by someone else, not due, cancelled, missing. */
  others: Map<string, GiftRow>;
}

/**
 * Claims gifts for sending, in one statement: the conditional update SCHEDULED → SENDING that
 * draws each gift's code and link token, its history step, and the state of every asked-for gift
 * that was not claimed (so the caller needs no second read to say why). Only the statement whose
 * update matched sends a gift, which is what makes sending exactly-once. Every row is locked with
 * SKIP LOCKED before it is updated, the asked-for ones as well as the extra due ones (oldest
 * first): a claim never waits on a row that another claim or a cancel holds, so claims that
 * overlap cannot deadlock each other or a cancel. A gift skipped that way is sent by the claim
 * that holds it, or was cancelled; should that other transaction roll back, the reconciler
 * re-adds the gift's job within a minute.
 */
export async function claimGifts(db: Knex, ids: string[], options: ClaimOptions): Promise<ClaimOutcome> {
  const { codes, tokens } = options.secrets(ids.length + options.extra);
  const { rows } = await db.raw<{ rows: Array<GiftRow & { claimed_now: boolean }> }>(
    `WITH own AS (SELECT DISTINCT unnest(?::text[]) AS id),
     mine AS (
       SELECT g.id FROM gifts g JOIN own o ON o.id = g.id
        WHERE g.status = 'SCHEDULED' AND g.send_at <= now() + (? * interval '1 millisecond') FOR UPDATE OF g SKIP LOCKED),
     extra AS (
       SELECT id FROM gifts WHERE ? > 0 AND status = 'SCHEDULED' AND send_at <= now() AND id <> ALL(?::text[])
        ORDER BY send_at LIMIT ? FOR UPDATE SKIP LOCKED),
     targets AS (SELECT id, row_number() OVER () AS n FROM (SELECT id FROM mine UNION ALL SELECT id FROM extra) t),
     input AS (
       SELECT t.id, s.code, s.token FROM targets t JOIN unnest(?::text[], ?::text[]) WITH ORDINALITY AS s(code, token, n) ON s.n = t.n),
     claimed AS (
       UPDATE gifts g
          SET status = 'SENDING', version = g.version + 1, updated_at = now(), claimed_at = now(), code = i.code, link_token = i.token
         FROM input i
        WHERE g.id = i.id AND g.status = 'SCHEDULED' AND g.send_at <= now() + (? * interval '1 millisecond')
       RETURNING g.*),
     logged AS (INSERT INTO gift_events (gift_id, to_status, actor, reason) SELECT id, 'SENDING', 'system:sender', 'due' FROM claimed)
     SELECT true AS claimed_now, c.* FROM claimed c
     UNION ALL
     SELECT false AS claimed_now, g.* FROM gifts g JOIN own o ON o.id = g.id WHERE g.id NOT IN (SELECT id FROM claimed)`,
    [ids, options.earlyToleranceMs, options.extra, ids, options.extra, codes, tokens, options.earlyToleranceMs] as unknown as Knex.RawBinding[],
  );
  const claimed: GiftRow[] = [];
  const others = new Map<string, GiftRow>();
  for (const { claimed_now, ...gift } of rows) {
    if (claimed_now) claimed.push(gift as GiftRow);
    else others.set(gift.id, gift as GiftRow);
  }
  return { claimed, others };
}

export interface RecordedSend {
  giftId: string;
  deliveryId: string;
  expiresAt: Date;
  remindD3At: Date | null;
  remindD1At: Date | null;
}

/** Links each sent gift to its delivery record and sets its validity and reminders, in one statement. */
export async function recordDeliveries(db: Knex, rows: RecordedSend[]): Promise<void> {
  if (rows.length === 0) return;
  await db.raw(
    `UPDATE gifts g SET delivery_id = r.delivery_id, expires_at = r.expires_at, remind_d3_at = r.d3, remind_d1_at = r.d1
       FROM (SELECT unnest(?::text[]) AS id, unnest(?::text[]) AS delivery_id, unnest(?::timestamptz[]) AS expires_at,
                    unnest(?::timestamptz[]) AS d3, unnest(?::timestamptz[]) AS d1) r
      WHERE g.id = r.id`,
    [rows.map((r) => r.giftId), rows.map((r) => r.deliveryId), rows.map((r) => r.expiresAt), rows.map((r) => r.remindD3At), rows.map((r) => r.remindD1At)] as unknown as Knex.RawBinding[],
  );
}

export interface DirectSend extends RecordedSend {
  /** The recipient's message went out on the first attempt: the gift is SENT now. */
  sent: boolean;
}

/**
 * The end of a direct send, in one statement: the messages that went out are marked sent, every
 * gift records its delivery and validity, the gifts whose message went out move SENDING → SENT
 * (with their history step), and the senders' "발송 완료" records are written for exactly those
 * gifts, as sent (the caller made their first attempt just before) or queued (that attempt
 * failed). Returns the ids of the queued notice rows this statement wrote, for the caller to
 * enqueue; should it die first, the notification reconciler finds them.
 * Gifts whose message did not go out stay SENDING with their delivery recorded: the settle sweep
 * moves them on once the channel queue's retries end.
 */
export async function recordDirectSends(db: Knex, sent: SentResult[], gifts: DirectSend[], notices: Array<NewDelivery & { giftId: string; result?: SentResult }>): Promise<string[]> {
  const column = <K extends keyof SentResult>(key: K) => sent.map((r) => r[key] ?? null);
  const { rows } = await db.raw<{ rows: Array<{ id: string; status: string }> }>(
    `WITH s AS (SELECT unnest(?::text[]) AS id, unnest(?::int[]) AS attempts, unnest(?::text[]) AS provider,
                       unnest(?::text[]) AS message_id, unnest(?::jsonb[]) AS detail),
     marked AS (
       UPDATE notification_deliveries d
          SET status = 'sent', sent_at = now(), updated_at = now(), last_error = NULL, attempts = s.attempts,
              provider = s.provider, provider_message_id = s.message_id, detail = s.detail
         FROM s WHERE d.id = s.id),
     r AS (SELECT unnest(?::text[]) AS id, unnest(?::text[]) AS delivery_id, unnest(?::timestamptz[]) AS expires_at,
                  unnest(?::timestamptz[]) AS d3, unnest(?::timestamptz[]) AS d1, unnest(?::boolean[]) AS sent),
     done AS (
       UPDATE gifts g
          SET delivery_id = r.delivery_id, expires_at = r.expires_at, remind_d3_at = r.d3, remind_d1_at = r.d1,
              status = CASE WHEN r.sent THEN 'SENT' ELSE g.status END,
              sent_at = CASE WHEN r.sent THEN now() ELSE g.sent_at END,
              version = g.version + CASE WHEN r.sent THEN 1 ELSE 0 END, updated_at = now()
         FROM r WHERE g.id = r.id AND g.status = 'SENDING'
       RETURNING g.id, r.sent),
     logged AS (INSERT INTO gift_events (gift_id, to_status, actor, reason) SELECT id, 'SENT', 'system:delivery', 'delivered' FROM done WHERE sent),
     n AS (SELECT unnest(?::text[]) AS gift_id, unnest(?::text[]) AS id, unnest(?::text[]) AS idempotency_key, unnest(?::text[]) AS event,
                  unnest(?::text[]) AS channel, unnest(?::text[]) AS recipient_key, unnest(?::jsonb[]) AS recipient, unnest(?::jsonb[]) AS data,
                  unnest(?::text[]) AS provider, unnest(?::text[]) AS message_id, unnest(?::jsonb[]) AS detail)
     INSERT INTO notification_deliveries (id, idempotency_key, event, channel, recipient_key, recipient, data, status, attempts, provider, provider_message_id, detail, sent_at)
     SELECT n.id, n.idempotency_key, n.event, n.channel, n.recipient_key, n.recipient, n.data,
            CASE WHEN n.provider IS NULL THEN 'queued' ELSE 'sent' END, CASE WHEN n.provider IS NULL THEN 0 ELSE 1 END,
            n.provider, n.message_id, n.detail, CASE WHEN n.provider IS NULL THEN NULL ELSE now() END
       FROM n JOIN done ON done.id = n.gift_id AND done.sent
     ON CONFLICT (id) DO NOTHING
     RETURNING id, status`,
    [
      column('id'), column('attempts'), column('provider'), column('providerMessageId'), sent.map((r) => (r.detail ? JSON.stringify(r.detail) : null)),
      gifts.map((r) => r.giftId), gifts.map((r) => r.deliveryId), gifts.map((r) => r.expiresAt), gifts.map((r) => r.remindD3At), gifts.map((r) => r.remindD1At), gifts.map((r) => r.sent),
      notices.map((n) => n.giftId), notices.map((n) => n.id), notices.map((n) => n.idempotency_key), notices.map((n) => n.event),
      notices.map((n) => n.channel), notices.map((n) => n.recipient_key), notices.map((n) => JSON.stringify(n.recipient)), notices.map((n) => JSON.stringify(n.data)),
      notices.map((n) => n.result?.provider ?? null), notices.map((n) => n.result?.providerMessageId ?? null), notices.map((n) => (n.result?.detail ? JSON.stringify(n.result.detail) : null)),
    ] as unknown as Knex.RawBinding[],
  );
  return rows.filter((r) => r.status === 'queued').map((r) => r.id);
}
