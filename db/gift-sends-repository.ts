import type { Knex } from 'knex';
import type { GiftRow } from './gifts-repository.ts';

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
  const { rows } = await db.raw<{ rows: Array<GiftRow & { taken_now: boolean }> }>(
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
     SELECT true AS taken_now, c.* FROM claimed c
     UNION ALL
     SELECT false AS taken_now, g.* FROM gifts g JOIN own o ON o.id = g.id WHERE g.id NOT IN (SELECT id FROM claimed)`,
    [ids, options.earlyToleranceMs, options.extra, ids, options.extra, codes, tokens, options.earlyToleranceMs] as unknown as Knex.RawBinding[],
  );
  const { taken: claimed, others } = splitTaken(rows);
  return { claimed, others };
}

/**
 * A batch statement's rows apart: the gifts it took now (`taken_now`, claimed or locked), and the
 * batch's other gifts by id, whose current state tells each caller why its gift was not taken.
 */
export function splitTaken(rows: Array<GiftRow & { taken_now: boolean }>): { taken: GiftRow[]; others: Map<string, GiftRow> } {
  const taken: GiftRow[] = [];
  const others = new Map<string, GiftRow>();
  for (const { taken_now, ...gift } of rows) {
    if (taken_now) taken.push(gift as GiftRow);
    else others.set(gift.id, gift as GiftRow);
  }
  return { taken, others };
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
