import type { Knex } from 'knex';
import type { Channel, Recipient } from '../notifications/provider.ts';

export type DeliveryStatus = 'queued' | 'retrying' | 'sent' | 'failed';

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

/**
 * The rows a batch of send jobs work on, in request order (undefined where a row is missing).
 * A row already `sent` is what makes duplicate jobs and replays send nothing.
 */
export type DeliveryToSend = Pick<DeliveryRow, 'id' | 'status' | 'event' | 'channel' | 'recipient' | 'data' | 'sent_at'>;

export async function loadDeliveries(db: Knex, ids: string[]): Promise<Array<DeliveryToSend | undefined>> {
  // One array parameter rather than a placeholder per id: cheaper to build, send and plan.
  const { rows } = await db.raw<{ rows: DeliveryToSend[] }>(
    'SELECT id, status, event, channel, recipient, data, sent_at FROM notification_deliveries WHERE id = ANY(?::text[])',
    [ids] as unknown as Knex.RawBinding[],
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id));
}

export interface SentResult {
  id: string;
  /** Attempts started so far, this one included (a crashed attempt counts). */
  attempts: number;
  provider: string;
  providerMessageId?: string;
  detail?: Record<string, unknown>;
}

/** Records successful sends, many in one statement. */
export async function markSent(db: Knex, results: SentResult[]): Promise<void> {
  const column = <K extends keyof SentResult>(key: K) => results.map((r) => r[key] ?? null);
  await db.raw(
    `UPDATE notification_deliveries d
        SET status = 'sent', sent_at = now(), updated_at = now(), last_error = NULL, attempts = r.attempts,
            provider = r.provider, provider_message_id = r.message_id, detail = r.detail
       FROM (SELECT unnest(?::text[]) AS id, unnest(?::int[]) AS attempts, unnest(?::text[]) AS provider,
                    unnest(?::text[]) AS message_id, unnest(?::jsonb[]) AS detail) r
      WHERE d.id = r.id`,
    [column('id'), column('attempts'), column('provider'), column('providerMessageId'), results.map((r) => (r.detail ? JSON.stringify(r.detail) : null))] as unknown as Knex.RawBinding[],
  );
}

export interface UnsentResult {
  id: string;
  status: 'retrying' | 'failed';
  attempts: number;
  provider: string;
  error: string;
}

export async function markUnsent(db: Knex, result: UnsentResult): Promise<void> {
  await db('notification_deliveries')
    .where({ id: result.id })
    .update({ status: result.status, attempts: result.attempts, provider: result.provider, last_error: result.error.slice(0, 2_000), updated_at: db.fn.now() });
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
    .whereIn('status', ['queued', 'retrying'])
    .where('updated_at', '<', db.raw(`now() - (? * interval '1 millisecond')`, [options.olderThanMs]))
    .orderBy('updated_at')
    .limit(options.limit)
    .select('id', 'channel');
}
