import type { Knex } from 'knex';
import { keptArray, preparedQuery } from './prepared.ts';
import type { OrderStatus } from '../domain/orders/state-machine.ts';
import type { OrderEventRow, OrderRow, OrderWithRestaurant, OutboxMessage } from './orders-repository.ts';

/**
 * Status changes of many orders in one statement (group commit, see orders/change-status.ts):
 * the same writes as `applyTransition`, one set per change, each still conditional on the order's
 * status-and-version as read (`expectedVersion`). The orders must be distinct: a row can move once
 * per statement. Returns, per change and in order, the order's id, status and version as they now
 * stand, or undefined when someone moved the order first (nothing of that change was written).
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

/**
 * Prepared, its plan kept (db/prepared.ts: keptArray): restaurants accept 167 orders a second at a
 * hot spot and each delivery brings four more changes; planning this statement cost more than
 * running it.
 */
const APPLY_TRANSITIONS = `
  WITH input AS (
     SELECT * FROM unnest(${keptArray(1, 'text')}, ${keptArray(2, 'int')}, ${keptArray(3, 'text')}, ${keptArray(4, 'int')}, ${keptArray(5, 'text')},
                          ${keptArray(6, 'text')}, ${keptArray(7, 'text')}, ${keptArray(8, 'text')}, ${keptArray(9, 'int')}, ${keptArray(10, 'jsonb')})
       AS i(id, expected, to_status, cook_minutes, from_status, actor_role, actor_id, reason, event_cook, outbox)),
   moved AS (
     UPDATE orders o SET cook_minutes = coalesce(i.cook_minutes, o.cook_minutes), status = i.to_status, version = i.expected + 1, updated_at = now()
       FROM input i WHERE o.id = i.id AND o.version = i.expected RETURNING o.id, o.status, o.version),
   event AS (
     INSERT INTO order_events (order_id, version, from_status, to_status, actor_role, actor_id, reason, cook_minutes)
     SELECT m.id, m.version, i.from_status, m.status, i.actor_role, i.actor_id, i.reason, i.event_cook FROM moved m JOIN input i ON i.id = m.id),
   messages AS (
     INSERT INTO outbox (topic, payload)
     SELECT x.topic, x.payload FROM moved m JOIN input i ON i.id = m.id, jsonb_to_recordset(i.outbox) AS x(topic text, payload jsonb))
   SELECT * FROM moved`;

/** What a status change returns of its order: its caller (the API) answers with these and nothing more. */
export type ChangedOrder = Pick<OrderRow, 'id' | 'status' | 'version'>;

export async function applyTransitions(db: Knex, changes: readonly TransitionInput[]): Promise<Array<ChangedOrder | undefined>> {
  if (new Set(changes.map((c) => c.id)).size !== changes.length) throw new Error('applyTransitions: one change per order in a statement');
  const column = <T>(pick: (c: TransitionInput) => T) => changes.map(pick);
  const rows = await preparedQuery<ChangedOrder>(db, 'orders.apply-transitions', APPLY_TRANSITIONS, [
    column((c) => c.id),
    column((c) => c.expectedVersion),
    column((c) => c.to),
    column((c) => c.cookMinutes ?? null),
    column((c) => c.event.from_status),
    column((c) => c.event.actor_role),
    column((c) => c.event.actor_id),
    column((c) => c.event.reason),
    column((c) => c.event.cook_minutes),
    column((c) => JSON.stringify(c.outbox)),
  ]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return changes.map((c) => byId.get(c.id));
}

/** `getOrderForChange` for many orders in one query; undefined for an order that does not exist. */
/** Prepared, as the write (its plan kept: db/prepared.ts). */
const READ_FOR_CHANGE = `
  SELECT orders.*, restaurants.name AS restaurant_name, restaurants.lat AS restaurant_lat, restaurants.lng AS restaurant_lng,
         (SELECT coalesce(sum(quantity), 0) FROM order_items i WHERE i.order_id = orders.id) AS item_count
    FROM unnest(${keptArray(1, 'text')}) AS wanted(id)
    JOIN orders ON orders.id = wanted.id JOIN restaurants ON restaurants.id = orders.restaurant_id`;

export async function getOrdersForChange(db: Knex, ids: readonly string[]): Promise<Array<(OrderWithRestaurant & { item_count: number }) | undefined>> {
  const rows = await preparedQuery<OrderWithRestaurant & { item_count: string | number }>(db, 'orders.read-for-change', READ_FOR_CHANGE, [[...new Set(ids)]]);
  const byId = new Map(rows.map((r) => [r.id, { ...r, item_count: Number(r.item_count) }]));
  return ids.map((id) => byId.get(id));
}
