import type { Knex } from 'knex';
import type { GiftStatus } from '../domain/gifts/status.ts';

export type GiftChannel = 'kakao' | 'sms' | 'email';

export interface GiftRow {
  id: string;
  sender_id: string;
  sender_name: string;
  product_id: string;
  product_name: string;
  price: number;
  validity_days: number;
  recipient_name: string;
  recipient_phone: string | null;
  recipient_kakao_id: string | null;
  recipient_email: string | null;
  channel: GiftChannel;
  message: string;
  send_at: Date;
  send_local: string;
  time_zone: string;
  status: GiftStatus;
  version: number;
  code: string | null;
  link_token: string | null;
  previous_link_token: string | null;
  transfer_count: number;
  delivery_id: string | null;
  claimed_at: Date | null;
  sent_at: Date | null;
  opened_at: Date | null;
  used_at: Date | null;
  expires_at: Date | null;
  remind_d3_at: Date | null;
  remind_d1_at: Date | null;
  reminded_d3_at: Date | null;
  reminded_d1_at: Date | null;
  created_at: Date;
  updated_at: Date;
  /** The sender's Idempotency-Key of the reservation, and the hash of that request. */
  idempotency_key: string | null;
  request_hash: string | null;
}

export interface GiftEventRow {
  id: string;
  gift_id: string;
  to_status: GiftStatus;
  actor: string;
  reason: string | null;
  at: Date;
}

export type NewGift = Pick<
  GiftRow,
  | 'id' | 'sender_id' | 'sender_name' | 'product_id' | 'product_name' | 'price' | 'validity_days' | 'recipient_name' | 'recipient_phone'
  | 'recipient_kakao_id' | 'recipient_email' | 'channel' | 'message' | 'send_at' | 'send_local' | 'time_zone'
> & Partial<Pick<GiftRow, 'idempotency_key' | 'request_hash'>>;

export async function insertGift(trx: Knex, gift: NewGift): Promise<GiftRow> {
  const [row] = await trx<GiftRow>('gifts').insert({ ...gift, status: 'SCHEDULED' }).returning('*');
  await trx('gift_events').insert({ gift_id: gift.id, to_status: 'SCHEDULED', actor: `user:${gift.sender_id}`, reason: 'reserved' });
  return row as GiftRow;
}

export async function getGift(db: Knex, id: string, options: { forUpdate?: boolean } = {}): Promise<GiftRow | undefined> {
  const query = db<GiftRow>('gifts').where({ id });
  if (options.forUpdate) query.forUpdate();
  return query.first();
}

/** Many gifts by id, one result per id in order (undefined where missing). */
export async function loadGifts(db: Knex, ids: string[]): Promise<Array<GiftRow | undefined>> {
  const { rows } = await db.raw<{ rows: GiftRow[] }>('SELECT * FROM gifts WHERE id = ANY(?::text[])', [ids] as unknown as Knex.RawBinding[]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => byId.get(id));
}

export async function listGifts(db: Knex, filter: { senderId: string; status?: GiftStatus; limit: number; before?: Date }): Promise<GiftRow[]> {
  const query = db<GiftRow>('gifts').where({ sender_id: filter.senderId }).orderBy('created_at', 'desc').limit(filter.limit);
  if (filter.status) query.where({ status: filter.status });
  if (filter.before) query.where('created_at', '<', filter.before);
  return query.select('*');
}

export async function giftEvents(db: Knex, giftId: string): Promise<GiftEventRow[]> {
  // By time: a sent gift's SENDING and SENT steps are written with its record, a little after the
  // send (gifts/recorder.ts), possibly after the recipient opened it.
  return db<GiftEventRow>('gift_events').where({ gift_id: giftId }).orderBy([{ column: 'at' }, { column: 'id' }]).select('*');
}

export async function findGiftByToken(db: Knex, token: string): Promise<{ gift: GiftRow; current: boolean } | undefined> {
  const gift = await db<GiftRow>('gifts').where({ link_token: token }).orWhere({ previous_link_token: token }).first();
  return gift && { gift, current: gift.link_token === token };
}

/**
 * Moves a gift from one of `from` to `to` and logs the step, in one statement: the conditional
 * update is what makes racing movers (cancel vs send, two expiry sweeps) safe — the loser gets
 * undefined and changes nothing. Events keep only the new status; the one before is the previous
 * event's, so the log cannot disagree with itself.
 */
export async function moveGift(
  trx: Knex,
  id: string,
  move: { from: readonly GiftStatus[]; to: GiftStatus; actor: string; reason?: string; set?: Partial<GiftRow>; where?: (q: Knex.QueryBuilder) => void },
): Promise<GiftRow | undefined> {
  const query = trx<GiftRow>('gifts')
    .where({ id })
    .whereIn('status', move.from as GiftStatus[])
    .update({ ...move.set, status: move.to, version: trx.raw('version + 1'), updated_at: trx.fn.now() } as Record<string, unknown>)
    .returning('*');
  move.where?.(query as unknown as Knex.QueryBuilder);
  const [row] = (await query) as GiftRow[];
  if (!row) return undefined;
  await trx('gift_events').insert({ gift_id: id, to_status: move.to, actor: move.actor, reason: move.reason ?? null });
  return row;
}

/** Changes fields of a gift in a given status (no status change), logging why. */
export async function updateGift(
  trx: Knex,
  id: string,
  change: { status: readonly GiftStatus[]; version?: number; set: Partial<GiftRow>; actor: string; reason: string },
): Promise<GiftRow | undefined> {
  const [row] = (await trx<GiftRow>('gifts')
    .where({ id })
    .where((q) => {
      if (change.version !== undefined) q.where({ version: change.version });
    })
    .whereIn('status', change.status as GiftStatus[])
    .update({ ...change.set, version: trx.raw('version + 1'), updated_at: trx.fn.now() } as Record<string, unknown>)
    .returning('*')) as GiftRow[];
  if (row) await trx('gift_events').insert({ gift_id: id, to_status: row.status, actor: change.actor, reason: change.reason });
  return row;
}

export async function setDeliveryId(db: Knex, id: string, deliveryId: string): Promise<void> {
  await db('gifts').where({ id }).update({ delivery_id: deliveryId });
}

/** SCHEDULED gifts due before `before`, oldest first: what the reconciler must make sure has a job. */
export async function scheduledDueBefore(db: Knex, before: Date, limit: number): Promise<Array<Pick<GiftRow, 'id' | 'send_at'>>> {
  return db<GiftRow>('gifts').where({ status: 'SCHEDULED' }).where('send_at', '<=', before).orderBy('send_at').limit(limit).select('id', 'send_at');
}
