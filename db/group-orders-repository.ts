import type { Knex } from 'knex';
import type { CancelReason, GroupStatus } from '../domain/group-orders/status.ts';
import type { GroupMode } from '../domain/group-orders/split.ts';

export interface GroupOrderRow {
  id: string;
  creator_id: string;
  joiner_id: string | null;
  restaurant_id: string;
  category: string;
  mode: GroupMode;
  status: GroupStatus;
  cancel_reason: CancelReason | null;
  dropoff_lat: number;
  dropoff_lng: number;
  dropoff_address: string;
  delivery_tip: number;
  creator_menu: number;
  creator_share: number;
  joiner_menu: number | null;
  joiner_share: number | null;
  order_id: string | null;
  expires_at: Date;
  created_at: Date;
  closed_at: Date | null;
}

export interface GroupOrderItemRow {
  group_order_id: string;
  user_id: string;
  menu_item_id: string;
  name: string;
  unit_price: number;
  quantity: number;
}

export type NewGroupOrder = Omit<GroupOrderRow, 'created_at' | 'closed_at' | 'joiner_id' | 'joiner_menu' | 'joiner_share' | 'order_id' | 'cancel_reason' | 'status'>;

export async function insertGroupOrder(trx: Knex, row: NewGroupOrder, items: Omit<GroupOrderItemRow, 'group_order_id'>[]): Promise<GroupOrderRow> {
  const [created] = await trx('group_orders').insert({ ...row, status: 'OPEN' }).returning<GroupOrderRow[]>('*');
  await trx('group_order_items').insert(items.map((i) => ({ ...i, group_order_id: row.id })));
  return created!;
}

export async function addGroupItems(trx: Knex, id: string, items: Omit<GroupOrderItemRow, 'group_order_id'>[]): Promise<void> {
  if (items.length > 0) await trx('group_order_items').insert(items.map((i) => ({ ...i, group_order_id: id })));
}

export async function getGroupOrder(db: Knex, id: string): Promise<GroupOrderRow | undefined> {
  return db('group_orders').where({ id }).first<GroupOrderRow | undefined>();
}

/** Reads the group and holds its row until the transaction ends: joins, cancels and expiries take turns. */
export async function lockGroupOrder(trx: Knex, id: string): Promise<GroupOrderRow | undefined> {
  return trx('group_orders').where({ id }).forUpdate().first<GroupOrderRow | undefined>();
}

export async function groupItems(db: Knex, id: string): Promise<GroupOrderItemRow[]> {
  return db('group_order_items').where({ group_order_id: id }).orderBy(['user_id', 'menu_item_id']).select<GroupOrderItemRow[]>('*');
}

/** OPEN → MATCHED; undefined when the group was no longer open. */
export async function markMatched(
  trx: Knex,
  id: string,
  change: { joiner_id: string; joiner_menu: number; joiner_share: number; order_id: string },
): Promise<GroupOrderRow | undefined> {
  const [row] = await trx('group_orders')
    .where({ id, status: 'OPEN' })
    .update({ ...change, status: 'MATCHED', closed_at: trx.fn.now() })
    .returning<GroupOrderRow[]>('*');
  return row;
}

/**
 * OPEN → CANCELLED; undefined when the group was no longer open (or, for an expiry, not yet due),
 * so of a racing join, cancel and expiry exactly one changes the row.
 */
export async function markCancelled(trx: Knex, id: string, reason: CancelReason): Promise<GroupOrderRow | undefined> {
  const query = trx('group_orders').where({ id, status: 'OPEN' });
  if (reason === 'expired') query.where('expires_at', '<=', trx.fn.now());
  const [row] = await query.update({ status: 'CANCELLED', cancel_reason: reason, closed_at: trx.fn.now() }).returning<GroupOrderRow[]>('*');
  return row;
}

/** Open groups past their deadline by `graceMs` or more: the ones whose delayed job Redis lost. */
export async function overdueOpenGroups(db: Knex, graceMs: number, limit: number): Promise<string[]> {
  const rows = await db('group_orders')
    .where({ status: 'OPEN' })
    .where('expires_at', '<=', db.raw(`now() - make_interval(secs => ?)`, [graceMs / 1_000]))
    .orderBy('expires_at')
    .limit(limit)
    .select<Array<{ id: string }>>('id');
  return rows.map((r) => r.id);
}

/** Newest first: the groups a customer created or joined. */
export async function listGroupsOf(db: Knex, userId: string, limit: number): Promise<GroupOrderRow[]> {
  return db('group_orders')
    .where((q) => q.where({ creator_id: userId }).orWhere({ joiner_id: userId }))
    .orderBy('created_at', 'desc')
    .limit(limit)
    .select<GroupOrderRow[]>('*');
}

/** The group a matched order came from, if any. */
export async function groupOfOrder(db: Knex, orderId: string): Promise<GroupOrderRow | undefined> {
  return db('group_orders').where({ order_id: orderId }).first<GroupOrderRow | undefined>();
}
