import type { Knex } from 'knex';
import type { GiftRow } from './gifts-repository.ts';
import type { NewDelivery } from './notification-deliveries-repository.ts';
import type { Channel, Recipient, RenderedMessage } from '../notifications/provider.ts';

/** One gift's send, prepared ahead of its instant (see gifts/stage.ts and the table's migration). */
export interface StagedSend {
  gift_id: string;
  version: number;
  usable_until: Date;
  code: string;
  link_token: string;
  delivery_id: string;
  expires_at: Date;
  remind_d3_at: Date | null;
  remind_d1_at: Date | null;
  send: StagedMessage;
  delivery: Pick<NewDelivery, 'idempotency_key' | 'recipient_key' | 'data'>;
}

/** What the instant hands to the provider. */
export interface StagedMessage {
  channel: Channel;
  recipient: Recipient;
  message: RenderedMessage;
}

/** A staged send with what its record needs of its gift (see {@link loadStaged}). */
export type LoadedStage = StagedSend & Pick<GiftRow, 'claimed_at' | 'sent_at' | 'sender_id' | 'product_name' | 'recipient_name'>;

/** The recipient's delivery row of a staged send, as handed to the provider. */
export function stagedDelivery(s: Pick<StagedSend, 'delivery_id' | 'send' | 'delivery'>): NewDelivery {
  return { id: s.delivery_id, event: 'gift.received', channel: s.send.channel, recipient: s.send.recipient, ...s.delivery };
}

/** Writes staged sends; a gift staged already keeps its first staging (a second preparer adds nothing). */
export async function stageSends(db: Knex, rows: StagedSend[]): Promise<number> {
  if (rows.length === 0) return 0;
  // One JSON document: the driver passes it as it is, with no per-element escaping.
  const { rowCount } = await db.raw<{ rowCount: number }>(
    `INSERT INTO gift_staged_sends (gift_id, version, usable_until, code, link_token, delivery_id, expires_at, remind_d3_at, remind_d1_at, send, delivery)
     SELECT gift_id, version, usable_until, code, link_token, delivery_id, expires_at, remind_d3_at, remind_d1_at, send, delivery
       FROM json_populate_recordset(null::gift_staged_sends, ?::json)
     ON CONFLICT (gift_id) DO NOTHING`,
    [JSON.stringify(rows)],
  );
  return rowCount;
}

/** A gift the staged send moved to SENT, what to hand to the provider, and what its sender's "발송 완료" names. */
export interface ClaimedStaged extends Pick<GiftRow, 'id' | 'sender_id' | 'product_name' | 'recipient_name'> {
  delivery_id: string;
  send: StagedMessage;
}

/**
 * The whole of a staged send's database work at the instant, in one statement of the transaction
 * that then calls the provider and commits: the due SCHEDULED gifts among `ids` that have a staged
 * send built from their current version, still usable, are locked (`SKIP LOCKED`: a row a cancel,
 * another send or a change holds is left to them) and written SENT with the staged code, link
 * token, delivery id and validity. Only the id, what the provider needs and the three names of the
 * sender's notice come back. Gifts it did
 * not take — not staged, changed since, held, already sent, cancelled — are the caller's to send
 * the ordinary way (gifts/direct-delivery.ts `sendHeld`), which also says why.
 * Until the commit nothing is on record: a cancel waiting for the row finds it SENT, and a send that
 * dies before the commit leaves the gift SCHEDULED with its staged send still usable.
 */
export async function claimStaged(trx: Knex.Transaction, ids: string[], earlyToleranceMs: number): Promise<ClaimedStaged[]> {
  const list = textArray(ids);
  const { rows } = await trx.raw<{ rows: ClaimedStaged[] }>(
    `WITH t AS (
       SELECT g.id, s.code, s.link_token, s.delivery_id, s.expires_at, s.remind_d3_at, s.remind_d1_at, s.send
         FROM gift_staged_sends s JOIN gifts g ON g.id = s.gift_id
        WHERE s.gift_id = ANY(?::text[]) AND g.id = ANY(?::text[]) AND g.status = 'SCHEDULED' AND g.version = s.version
          AND g.send_at <= now() + (? * interval '1 millisecond') AND s.usable_until > statement_timestamp()
        FOR UPDATE OF g SKIP LOCKED)
     UPDATE gifts g
        SET status = 'SENT', code = t.code, link_token = t.link_token, claimed_at = now(), sent_at = statement_timestamp(),
            delivery_id = t.delivery_id, expires_at = t.expires_at, remind_d3_at = t.remind_d3_at, remind_d1_at = t.remind_d1_at,
            version = g.version + 1, updated_at = statement_timestamp()
       FROM t WHERE g.id = t.id AND g.id = ANY(?::text[]) AND g.status = 'SCHEDULED'
     RETURNING g.id, t.delivery_id, t.send, g.sender_id, g.product_name, g.recipient_name`,
    // The ids on both sides of each join: the planner then reads gifts by its primary key (with
    // the join alone it estimated the whole table and scanned it, twice per batch).
    [list, list, earlyToleranceMs, list],
  );
  return rows;
}

/** Whole staged sends by gift id, with what the record needs of the gift (the few whose message failed at the instant, or a record being written). */
export async function loadStaged(db: Knex, giftIds: string[]): Promise<LoadedStage[]> {
  if (giftIds.length === 0) return [];
  const list = textArray(giftIds);
  const { rows } = await db.raw<{ rows: LoadedStage[] }>(
    `SELECT s.*, g.claimed_at, g.sent_at, g.sender_id, g.product_name, g.recipient_name
       FROM gift_staged_sends s JOIN gifts g ON g.id = s.gift_id WHERE s.gift_id = ANY(?::text[]) AND g.id = ANY(?::text[])`,
    [list, list],
  );
  return rows;
}

/** Staged sends nobody will use any more (their gift was cancelled, changed or sent the ordinary way). */
export async function dropStaleStaged(db: Knex, before: Date): Promise<number> {
  const { rowCount } = await db.raw<{ rowCount: number }>('DELETE FROM gift_staged_sends WHERE usable_until < ?', [before]);
  return rowCount;
}

/**
 * A Postgres text[] literal for ids made of letters, digits, `-` and `_` (deligo's ids), written
 * as one string: the driver's own array serialisation escapes each element, a measurable part of
 * a burst's worker time. Anything else goes as an ordinary array.
 */
export function textArray(values: string[]): string | string[] {
  for (const v of values) if (!/^[A-Za-z0-9_-]+$/.test(v)) return values;
  return `{${values.join(',')}}`;
}
