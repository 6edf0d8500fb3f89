import type { Knex } from 'knex';
import { preparedQuery } from './prepared.ts';
import type { OrderStatus } from '../domain/orders/state-machine.ts';
import type { OrderEventRow, OrderRow, OrderWithRestaurant, OutboxMessage } from './orders-repository.ts';

/**
 * Status changes of many orders in one statement (group commit, see orders/change-status.ts):
 * the same writes as `applyTransition`, one set per change, each still conditional on the order's
 * status-and-version as read (`expectedVersion`). The orders must be distinct: a row can move once
 * per statement. Returns, per change and in order, the row as it now stands, or undefined when
 * someone moved the order first (nothing of that change was written).
 */
export interface TransitionInput {
  id: string;
  expectedVersion: number;
  to: OrderStatus;
  /** Only `cook_minutes` is patched by a status change; undefined leaves it as it is. */
  cookMinutes?: number;
  event: Omit<OrderEventRow, 'at' | 'version' | 'order_id' | 'to_status'>;
  outbox: OutboxMessage[];
}

export async function applyTransitions(db: Knex, changes: readonly TransitionInput[]): Promise<Array<OrderRow | undefined>> {
  if (new Set(changes.map((c) => c.id)).size !== changes.length) throw new Error('applyTransitions: one change per order in a statement');
  if (changes.length === 1) return [await applyOne(db, changes[0]!)];
  const column = <T>(pick: (c: TransitionInput) => T) => changes.map(pick) as unknown as Knex.RawBinding;
  const { rows } = await db.raw<{ rows: OrderRow[] }>(
    `WITH input AS (
       SELECT * FROM unnest(:ids::text[], :expected::int[], :to::text[], :cook::int[], :from::text[], :role::text[], :actor::text[], :reason::text[], :eventCook::int[], :outbox::jsonb[])
         AS i(id, expected, to_status, cook_minutes, from_status, actor_role, actor_id, reason, event_cook, outbox)),
     moved AS (
       UPDATE orders o SET cook_minutes = coalesce(i.cook_minutes, o.cook_minutes), status = i.to_status, version = i.expected + 1, updated_at = now()
         FROM input i WHERE o.id = i.id AND o.version = i.expected RETURNING o.*),
     event AS (
       INSERT INTO order_events (order_id, version, from_status, to_status, actor_role, actor_id, reason, cook_minutes)
       SELECT m.id, m.version, i.from_status, m.status, i.actor_role, i.actor_id, i.reason, i.event_cook FROM moved m JOIN input i ON i.id = m.id),
     messages AS (
       INSERT INTO outbox (topic, payload)
       SELECT x.topic, x.payload FROM moved m JOIN input i ON i.id = m.id, jsonb_to_recordset(i.outbox) AS x(topic text, payload jsonb))
     SELECT * FROM moved`,
    {
      ids: column((c) => c.id),
      expected: column((c) => c.expectedVersion),
      to: column((c) => c.to),
      cook: column((c) => c.cookMinutes ?? null),
      from: column((c) => c.event.from_status),
      role: column((c) => c.event.actor_role),
      actor: column((c) => c.event.actor_id),
      reason: column((c) => c.event.reason),
      eventCook: column((c) => c.event.cook_minutes),
      outbox: column((c) => JSON.stringify(c.outbox)),
    },
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  return changes.map((c) => byId.get(c.id));
}

/**
 * One change alone (at a hot spot, most batches: a restaurant's acceptance or a rider's step),
 * as a prepared statement with scalar parameters: Postgres plans it once per connection and keeps
 * that plan, where the statement of many changes, whose arrays' lengths vary, is planned again on
 * every call (planning these CTEs cost more than running them). The same writes and conditions.
 */
const APPLY_ONE = `
  WITH moved AS (
     UPDATE orders SET cook_minutes = coalesce($4::int, cook_minutes), status = $3, version = $2::int + 1, updated_at = now()
      WHERE id = $1 AND version = $2::int RETURNING *),
   event AS (
     INSERT INTO order_events (order_id, version, from_status, to_status, actor_role, actor_id, reason, cook_minutes)
     SELECT id, version, $5, status, $6, $7, $8, $9::int FROM moved),
   messages AS (
     INSERT INTO outbox (topic, payload) SELECT x.topic, x.payload FROM moved, jsonb_to_recordset($10::jsonb) AS x(topic text, payload jsonb))
   SELECT * FROM moved`;

async function applyOne(db: Knex, c: TransitionInput): Promise<OrderRow | undefined> {
  const rows = await preparedQuery<OrderRow>(db, 'orders.apply-transition', APPLY_ONE, [
    c.id,
    c.expectedVersion,
    c.to,
    c.cookMinutes ?? null,
    c.event.from_status,
    c.event.actor_role,
    c.event.actor_id,
    c.event.reason,
    c.event.cook_minutes,
    JSON.stringify(c.outbox),
  ]);
  return rows[0];
}

const READ_ONE = `
  SELECT orders.*, restaurants.name AS restaurant_name, restaurants.lat AS restaurant_lat, restaurants.lng AS restaurant_lng,
         (SELECT coalesce(sum(quantity), 0) FROM order_items i WHERE i.order_id = orders.id) AS item_count
    FROM orders JOIN restaurants ON restaurants.id = orders.restaurant_id
   WHERE orders.id = $1`;

/** `getOrderForChange` for many orders in one query; undefined for an order that does not exist. */
export async function getOrdersForChange(db: Knex, ids: readonly string[]): Promise<Array<(OrderWithRestaurant & { item_count: number }) | undefined>> {
  if (ids.length === 1) {
    // Alone: prepared, as `applyOne`.
    const [row] = await preparedQuery<OrderWithRestaurant & { item_count: string | number }>(db, 'orders.read-for-change', READ_ONE, [ids[0]]);
    return [row && { ...row, item_count: Number(row.item_count) }];
  }
  const { rows } = await db.raw<{ rows: Array<OrderWithRestaurant & { item_count: string | number }> }>(
    `SELECT orders.*, restaurants.name AS restaurant_name, restaurants.lat AS restaurant_lat, restaurants.lng AS restaurant_lng,
            (SELECT coalesce(sum(quantity), 0) FROM order_items i WHERE i.order_id = orders.id) AS item_count
       FROM orders JOIN restaurants ON restaurants.id = orders.restaurant_id
      WHERE orders.id = ANY(:ids::text[])`,
    { ids: [...new Set(ids)] as unknown as Knex.RawBinding },
  );
  const byId = new Map(rows.map((r) => [r.id, { ...r, item_count: Number(r.item_count) }]));
  return ids.map((id) => byId.get(id));
}
