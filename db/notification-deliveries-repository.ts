import type { Knex } from 'knex';
import type { Channel, Recipient } from '../notifications/provider.ts';

export type DeliveryStatus = 'queued' | 'sending' | 'retrying' | 'sent' | 'failed';

export interface DeliveryRow {
  id: string;
  idempotency_key: string;
  event: string;
  channel: Channel;
  recipient_key: string;
  recipient: Recipient;
  data: Record<string, unknown>;
  status: DeliveryStatus;
  attempts: number;
  last_error: string | null;
  provider: string | null;
  provider_message_id: string | null;
  detail: Record<string, unknown> | null;
  created_at: Date;
  updated_at: Date;
  sent_at: Date | null;
}

export type NewDelivery = Pick<DeliveryRow, 'id' | 'idempotency_key' | 'event' | 'channel' | 'recipient_key' | 'recipient' | 'data'>;

/** Inserts the deliveries not seen before and returns their ids; a repeated key inserts nothing. */
export async function insertDeliveries(db: Knex, rows: NewDelivery[]): Promise<string[]> {
  if (rows.length === 0) return [];
  const inserted = await db('notification_deliveries')
    .insert(rows.map((r) => ({ ...r, recipient: JSON.stringify(r.recipient), data: JSON.stringify(r.data) })))
    .onConflict('id')
    .ignore()
    .returning<{ id: string }[]>('id');
  return inserted.map((r) => r.id);
}

export type Claim = { kind: 'claimed'; row: DeliveryRow } | { kind: 'already-sent'; row: DeliveryRow } | { kind: 'missing' };

/**
 * Takes a delivery for one attempt. A delivery already sent is never claimed again, which is
 * what makes duplicate jobs and replays harmless. BullMQ's job lock keeps attempts apart.
 */
export async function claimDelivery(db: Knex, id: string, provider: string): Promise<Claim> {
  const [claimed] = await db('notification_deliveries')
    .where({ id })
    .whereNot({ status: 'sent' })
    .update({ status: 'sending', attempts: db.raw('attempts + 1'), provider, updated_at: db.fn.now() })
    .returning<DeliveryRow[]>('*');
  if (claimed) return { kind: 'claimed', row: claimed };
  const row = await db('notification_deliveries').where({ id }).first<DeliveryRow | undefined>();
  return row ? { kind: 'already-sent', row } : { kind: 'missing' };
}

export async function markSent(db: Knex, id: string, result: { providerMessageId?: string; detail?: Record<string, unknown> }): Promise<void> {
  await db('notification_deliveries')
    .where({ id })
    .update({
      status: 'sent',
      sent_at: db.fn.now(),
      updated_at: db.fn.now(),
      last_error: null,
      provider_message_id: result.providerMessageId ?? null,
      detail: result.detail ? JSON.stringify(result.detail) : null,
    });
}

export async function markUnsent(db: Knex, id: string, status: 'retrying' | 'failed', error: string): Promise<void> {
  await db('notification_deliveries').where({ id }).update({ status, last_error: error.slice(0, 2_000), updated_at: db.fn.now() });
}

export interface DeliveryFilter {
  status?: DeliveryStatus;
  event?: string;
  /** A user id or an address: `c-1`, `user:c-1`, `phone:01012345678`, … */
  recipient?: string;
  /** Only rows created before this instant (paging). */
  before?: Date;
  limit: number;
}

export async function listDeliveries(db: Knex, filter: DeliveryFilter): Promise<DeliveryRow[]> {
  const query = db('notification_deliveries').orderBy('created_at', 'desc').limit(filter.limit);
  if (filter.status) query.where({ status: filter.status });
  if (filter.event) query.where({ event: filter.event });
  if (filter.recipient) {
    const key = filter.recipient.includes(':') ? filter.recipient : `user:${filter.recipient}`;
    query.where({ recipient_key: key });
  }
  if (filter.before) query.where('created_at', '<', filter.before);
  return query.select<DeliveryRow[]>('*');
}

/** Deliveries that should have a live job by now but may not (Redis lost it, or a crash before enqueue). */
export async function findOverdue(db: Knex, options: { olderThanMs: number; limit: number }): Promise<Array<Pick<DeliveryRow, 'id' | 'channel'>>> {
  return db('notification_deliveries')
    .whereIn('status', ['queued', 'retrying', 'sending'])
    .where('updated_at', '<', db.raw(`now() - (? * interval '1 millisecond')`, [options.olderThanMs]))
    .orderBy('updated_at')
    .limit(options.limit)
    .select('id', 'channel');
}
