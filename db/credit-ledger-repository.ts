import type { Knex } from 'knex';

export type LedgerKind = 'grant' | 'top_up' | 'hold' | 'capture' | 'release' | 'debit' | 'refund';

export interface Balance {
  available: number;
  held: number;
}

export interface LedgerRow {
  id: string;
  user_id: string;
  kind: LedgerKind;
  amount: string;
  ref_type: string;
  ref_id: string;
  memo: string | null;
  created_at: Date;
}

export interface NewLedgerEntry {
  userId: string;
  kind: LedgerKind;
  amount: number;
  refType: string;
  refId: string;
  memo?: string | null;
}

/** pg returns bigint as text; won amounts stay far below 2^53. */
const toBalance = (row: { available: string | number; held: string | number }): Balance => ({ available: Number(row.available), held: Number(row.held) });

/** Creates the account with `available` won; false when it already existed. */
export async function insertAccount(trx: Knex, userId: string, available: number): Promise<boolean> {
  const result = await trx.raw<{ rows: unknown[] }>(
    'INSERT INTO credit_accounts (user_id, available, held) VALUES (?, ?, 0) ON CONFLICT (user_id) DO NOTHING RETURNING user_id',
    [userId, available],
  );
  return result.rows.length > 0;
}

/**
 * Locks the account row until the transaction ends, so every change to one user's credits is
 * serialised: a check of the ledger made after the lock stays true until commit.
 */
export async function lockAccount(trx: Knex, userId: string): Promise<Balance | undefined> {
  const row = await trx('credit_accounts').where({ user_id: userId }).forUpdate().first('available', 'held');
  return row ? toBalance(row) : undefined;
}

export async function readBalance(db: Knex, userId: string): Promise<Balance | undefined> {
  const row = await db('credit_accounts').where({ user_id: userId }).first('available', 'held');
  return row ? toBalance(row) : undefined;
}

/**
 * Adds the deltas only if neither side goes below zero; undefined (and nothing written) when it
 * would. The table's CHECKs back this up.
 */
export async function moveBalance(trx: Knex, userId: string, delta: { available: number; held: number }): Promise<Balance | undefined> {
  const result = await trx.raw<{ rows: Array<{ available: string; held: string }> }>(
    `UPDATE credit_accounts SET available = available + ?, held = held + ?, updated_at = now()
     WHERE user_id = ? AND available + ? >= 0 AND held + ? >= 0
     RETURNING available, held`,
    [delta.available, delta.held, userId, delta.available, delta.held],
  );
  const row = result.rows[0];
  return row ? toBalance(row) : undefined;
}

/** Every entry of one user under one reference, oldest first. */
export async function entriesForRef(trx: Knex, userId: string, ref: { type: string; id: string }): Promise<LedgerRow[]> {
  return trx('credit_ledger').where({ user_id: userId, ref_type: ref.type, ref_id: ref.id }).orderBy('id').select<LedgerRow[]>('*');
}

/** Append-only: the code never updates or deletes a ledger row. */
export async function appendEntry(trx: Knex, entry: NewLedgerEntry): Promise<void> {
  await trx('credit_ledger').insert({
    user_id: entry.userId,
    kind: entry.kind,
    amount: entry.amount,
    ref_type: entry.refType,
    ref_id: entry.refId,
    memo: entry.memo ?? null,
  });
}

/** Newest first; `before` is an entry id to page from. */
export async function listEntries(db: Knex, userId: string, options: { limit: number; before?: number }): Promise<LedgerRow[]> {
  const query = db('credit_ledger').where({ user_id: userId }).orderBy('id', 'desc').limit(options.limit);
  if (options.before !== undefined) query.where('id', '<', options.before);
  return query.select<LedgerRow[]>('*');
}
