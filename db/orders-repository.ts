import type { Knex } from 'knex';
import type { OrderStatus } from '../domain/orders/state-machine.ts';
import type { DeliveryRow } from './notification-deliveries-repository.ts';
import { preparedQuery } from './prepared.ts';

export interface OrderRow {
  id: string;
  customer_id: string;
  /** A matched group order's joiner: reads, tracks and hears about the order like its customer. */
  co_customer_id: string | null;
  restaurant_id: string;
  rider_id: string | null;
  status: OrderStatus;
  version: number;
  subtotal: number;
  delivery_tip: number;
  total: number;
  dropoff_lat: number;
  dropoff_lng: number;
  dropoff_address: string;
  cook_minutes: number | null;
  eta_at: Date | null;
  idempotency_key: string | null;
  request_hash: string | null;
  created_at: Date;
  updated_at: Date;
  // `orders.*` also brings `active_rider_id` and `is_open`, columns Postgres derives from the
  // status for its indexes (db/migrations/20261208020000_orders_status_changes_in_place.ts);
  // nothing reads them from a row.
}

export interface OrderItemRow {
  order_id: string;
  menu_item_id: string;
  name: string;
  unit_price: number;
  quantity: number;
}

export interface OrderEventRow {
  order_id: string;
  version: number;
  from_status: OrderStatus | null;
  to_status: OrderStatus;
  actor_role: string;
  actor_id: string;
  reason: string | null;
  cook_minutes: number | null;
  at: Date;
}

export interface OutboxMessage {
  topic: string;
  payload: Record<string, unknown>;
}

type NewOrder = Omit<OrderRow, 'created_at' | 'updated_at'>;

/**
 * Writes the order, its items, its first event and its outbox messages in one statement: atomic
 * like a transaction, in one round trip instead of six (the foreign keys are checked at its end).
 */
export async function insertOrder(db: Knex, order: NewOrder, items: Omit<OrderItemRow, 'order_id'>[], event: Omit<OrderEventRow, 'at'>, outbox: OutboxMessage[]): Promise<OrderRow> {
  const columns = Object.keys(order) as Array<keyof NewOrder>;
  const { rows } = await db.raw<{ rows: OrderRow[] }>(
    `WITH created AS (
       INSERT INTO orders (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) RETURNING *),
     items AS (
       INSERT INTO order_items (order_id, menu_item_id, name, unit_price, quantity)
       SELECT created.id, i.menu_item_id, i.name, i.unit_price, i.quantity FROM created, jsonb_to_recordset(?::jsonb) AS i(menu_item_id text, name text, unit_price int, quantity int)),
     event AS (
       INSERT INTO order_events (order_id, version, from_status, to_status, actor_role, actor_id, reason, cook_minutes)
       SELECT created.id, ?, ?, ?, ?, ?, ?, ? FROM created),
     messages AS (
       INSERT INTO outbox (topic, payload) SELECT m.topic, m.payload FROM created, jsonb_to_recordset(?::jsonb) AS m(topic text, payload jsonb))
     SELECT * FROM created`,
    [
      ...columns.map((c) => {
        const value = order[c];
        return value instanceof Date ? value.toISOString() : (value as Knex.RawBinding);
      }),
      JSON.stringify(items),
      event.version,
      event.from_status,
      event.to_status,
      event.actor_role,
      event.actor_id,
      event.reason,
      event.cook_minutes,
      JSON.stringify(outbox),
    ] as Knex.RawBinding[],
  );
  return rows[0]!;
}

/** One new order as `insertOrders` takes it: the rows `insertOrder` writes. */
export interface NewOrderRecords {
  row: NewOrder;
  items: Omit<OrderItemRow, 'order_id'>[];
  event: Omit<OrderEventRow, 'at' | 'order_id'>;
  outbox: OutboxMessage[];
}

/**
 * Writes many orders, each with its items, first event and outbox messages, in one statement (one
 * round trip and one commit for all). An order whose Idempotency-Key its customer already used is
 * skipped, not an error (a concurrent holder of the key is waited for): its place in the answer
 * is undefined, and the caller looks the key up. Any other failure fails the whole statement.
 * The statement is prepared (db/prepared.ts): at hundreds of orders a second its parse and plan
 * cost Postgres more than its execution for a batch of a few orders.
 */
export async function insertOrders(db: Knex, orders: readonly NewOrderRecords[]): Promise<Array<OrderRow | undefined>> {
  const batch = orders.map(({ row, items, event, outbox }) => ({ ...row, eta_at: row.eta_at?.toISOString() ?? null, items, event, outbox }));
  const rows = await preparedQuery<OrderRow>(db, 'orders.insert-batch', INSERT_ORDERS, [JSON.stringify(batch)]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return orders.map((o) => byId.get(o.row.id));
}

/** The columns of a new order and their SQL types, as `insertOrders` reads them from JSON. */
const NEW_ORDER_COLUMNS: ReadonlyArray<readonly [keyof NewOrder, string]> = [
  ['id', 'text'],
  ['customer_id', 'text'],
  ['co_customer_id', 'text'],
  ['restaurant_id', 'text'],
  ['rider_id', 'text'],
  ['status', 'text'],
  ['version', 'int'],
  ['subtotal', 'int'],
  ['delivery_tip', 'int'],
  ['total', 'int'],
  ['dropoff_lat', 'float8'],
  ['dropoff_lng', 'float8'],
  ['dropoff_address', 'text'],
  ['cook_minutes', 'int'],
  ['eta_at', 'timestamptz'],
  ['idempotency_key', 'text'],
  ['request_hash', 'text'],
];

/** `insertOrders`' statement, built once: the same text every call, prepared once per connection. */
const INSERT_ORDERS = `WITH batch AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS o(${NEW_ORDER_COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ')}, items jsonb, event jsonb, outbox jsonb)),
     created AS (
       INSERT INTO orders (${NEW_ORDER_COLUMNS.map(([name]) => name).join(', ')})
       SELECT ${NEW_ORDER_COLUMNS.map(([name]) => name).join(', ')} FROM batch
       ON CONFLICT (customer_id, idempotency_key) DO NOTHING RETURNING *),
     items AS (
       INSERT INTO order_items (order_id, menu_item_id, name, unit_price, quantity)
       SELECT created.id, i.menu_item_id, i.name, i.unit_price, i.quantity FROM created JOIN batch ON batch.id = created.id, jsonb_to_recordset(batch.items) AS i(menu_item_id text, name text, unit_price int, quantity int)),
     event AS (
       INSERT INTO order_events (order_id, version, from_status, to_status, actor_role, actor_id, reason, cook_minutes)
       SELECT created.id, e.version, e.from_status, e.to_status, e.actor_role, e.actor_id, e.reason, e.cook_minutes
       FROM created JOIN batch ON batch.id = created.id, jsonb_to_record(batch.event) AS e(version int, from_status text, to_status text, actor_role text, actor_id text, reason text, cook_minutes int)),
     messages AS (
       INSERT INTO outbox (topic, payload) SELECT m.topic, m.payload FROM created JOIN batch ON batch.id = created.id, jsonb_to_recordset(batch.outbox) AS m(topic text, payload jsonb))
     SELECT * FROM created`;

export async function findByIdempotencyKey(db: Knex, customerId: string, key: string): Promise<OrderRow | undefined> {
  return db('orders').where({ customer_id: customerId, idempotency_key: key }).first<OrderRow | undefined>();
}

export type OrderWithRestaurant = OrderRow & { restaurant_name: string; restaurant_lat: number; restaurant_lng: number };

/** The order with its restaurant's name and place, which notifications and tracking mention. */
export async function getOrder(db: Knex, id: string): Promise<OrderWithRestaurant | undefined> {
  return db('orders')
    .join('restaurants', 'restaurants.id', 'orders.restaurant_id')
    .where('orders.id', id)
    .first<OrderWithRestaurant | undefined>('orders.*', 'restaurants.name as restaurant_name', 'restaurants.lat as restaurant_lat', 'restaurants.lng as restaurant_lng');
}

export async function orderItems(db: Knex, id: string): Promise<OrderItemRow[]> {
  return db('order_items').where({ order_id: id }).orderBy('menu_item_id').select<OrderItemRow[]>('*');
}

export async function orderEvents(db: Knex, id: string): Promise<OrderEventRow[]> {
  return db('order_events').where({ order_id: id }).orderBy('version').select<OrderEventRow[]>('*');
}

/** The order as `getOrder` reads it, with how many items it holds (for the status message), in one round trip. */
export async function getOrderForChange(db: Knex, id: string): Promise<(OrderWithRestaurant & { item_count: number }) | undefined> {
  const row = await db('orders')
    .join('restaurants', 'restaurants.id', 'orders.restaurant_id')
    .where('orders.id', id)
    .first<(OrderWithRestaurant & { item_count: string | number }) | undefined>(
      'orders.*',
      'restaurants.name as restaurant_name',
      'restaurants.lat as restaurant_lat',
      'restaurants.lng as restaurant_lng',
      db.raw('(SELECT coalesce(sum(quantity), 0) FROM order_items i WHERE i.order_id = orders.id) AS item_count'),
    );
  return row && { ...row, item_count: Number(row.item_count) };
}

/**
 * Open orders, oldest first, a page at a time after `after` (the last one of the previous page),
 * as `getOrderForChange` reads them. The partial index of open orders keeps this small.
 */
export async function openOrdersPage(db: Knex, after: { createdAt: Date; id: string } | undefined, limit: number): Promise<Array<OrderWithRestaurant & { item_count: number }>> {
  const query = db('orders')
    .join('restaurants', 'restaurants.id', 'orders.restaurant_id')
    .whereRaw('orders.is_open')
    .orderBy([{ column: 'orders.created_at' }, { column: 'orders.id' }])
    .limit(limit)
    .select<Array<OrderWithRestaurant & { item_count: string | number }>>(
      'orders.*',
      'restaurants.name as restaurant_name',
      'restaurants.lat as restaurant_lat',
      'restaurants.lng as restaurant_lng',
      db.raw('(SELECT coalesce(sum(quantity), 0) FROM order_items i WHERE i.order_id = orders.id) AS item_count'),
    );
  if (after) query.whereRaw('(orders.created_at, orders.id) > (?, ?)', [after.createdAt.toISOString(), after.id]);
  return (await query).map((row) => ({ ...row, item_count: Number(row.item_count) }));
}

const PATCHABLE = ['cook_minutes', 'eta_at', 'rider_id'] as const;

/**
 * Moves an order only if nobody else moved it first: the update matches the version the caller
 * decided on. The event and the outbox messages are written by the same statement, only when the
 * update matched (one round trip, atomic). Returns the new row, or undefined when the version had
 * moved on (a conflict); in that case nothing was written.
 */
export async function applyTransition(
  db: Knex,
  change: { id: string; expectedVersion: number; to: OrderStatus; patch: Partial<Pick<OrderRow, (typeof PATCHABLE)[number]>> },
  event: Omit<OrderEventRow, 'at' | 'version' | 'order_id' | 'to_status'>,
  outbox: OutboxMessage[],
): Promise<OrderRow | undefined> {
  const patched = PATCHABLE.filter((column) => change.patch[column] !== undefined);
  const { rows } = await db.raw<{ rows: OrderRow[] }>(
    `WITH moved AS (
       UPDATE orders SET ${patched.map((c) => `${c} = ?, `).join('')}status = ?, version = ?, updated_at = now()
        WHERE id = ? AND version = ? RETURNING *),
     event AS (
       INSERT INTO order_events (order_id, version, from_status, to_status, actor_role, actor_id, reason, cook_minutes)
       SELECT id, version, ?, status, ?, ?, ?, ? FROM moved),
     messages AS (
       INSERT INTO outbox (topic, payload) SELECT m.topic, m.payload FROM moved, jsonb_to_recordset(?::jsonb) AS m(topic text, payload jsonb))
     SELECT * FROM moved`,
    [
      ...patched.map((c) => (change.patch[c] instanceof Date ? (change.patch[c] as Date).toISOString() : change.patch[c]!)),
      change.to,
      change.expectedVersion + 1,
      change.id,
      change.expectedVersion,
      event.from_status,
      event.actor_role,
      event.actor_id,
      event.reason,
      event.cook_minutes,
      JSON.stringify(outbox),
    ] as Knex.RawBinding[],
  );
  return rows[0];
}

export type OrderViewer = { role: 'customer' | 'restaurant' | 'rider' | 'admin'; sub: string };

/** Newest first: a customer's own orders, a restaurant's, a rider's deliveries, or all for admins. */
export async function listOrders(db: Knex, viewer: OrderViewer, limit: number): Promise<OrderRow[]> {
  const query = db('orders').orderBy('created_at', 'desc').limit(limit);
  if (viewer.role === 'customer') query.where((q) => q.where({ customer_id: viewer.sub }).orWhere({ co_customer_id: viewer.sub }));
  if (viewer.role === 'restaurant') query.where({ restaurant_id: viewer.sub });
  if (viewer.role === 'rider') query.where({ rider_id: viewer.sub });
  return query.select<OrderRow[]>('*');
}

export async function appendOutbox(trx: Knex.Transaction, messages: OutboxMessage[]): Promise<void> {
  if (messages.length > 0) await trx('outbox').insert(messages.map((m) => ({ topic: m.topic, payload: JSON.stringify(m.payload) })));
}

/**
 * How long a relay may take to deliver what it took before Postgres ends its session, which gives
 * the rows back to the next relay.
 */
const OUTBOX_LEASE_SECONDS = 30;

/** Notification deliveries a drained batch calls for, in the shape `notification_deliveries` stores. */
export type OutboxDelivery = Pick<DeliveryRow, 'id' | 'idempotency_key' | 'event' | 'channel' | 'recipient_key' | 'recipient' | 'data'>;

/**
 * Takes up to `limit` outbox messages, oldest first, in a transaction that locks them (rows another
 * relay holds are skipped), hands them to `deliver`, then deletes them and records the notification
 * deliveries `deliver` returned (a delivery already recorded is skipped), and commits. Returns how
 * many messages were drained and the deliveries recorded now, for the caller to enqueue: should it
 * die before that, the recorded rows are what the notifications reconciler re-enqueues, so nothing
 * is lost between this commit and the enqueue. If `deliver` throws, or the relay dies or hangs for
 * longer than the lease (Postgres then ends the session), the transaction rolls back and the
 * messages are delivered again. Delivery is idempotent, so a repeat changes nothing twice.
 *
 * The lock is the claim. An earlier relay wrote a lease into each row (`claimed_until`) and then
 * deleted it: at a hot spot that rewrote every message, payload and all, once more than needed.
 * A lease such a relay wrote is still honoured while it lasts.
 */
export async function drainOutbox(
  db: Knex,
  limit: number,
  deliver: (messages: Array<OutboxMessage & { id: string }>) => Promise<OutboxDelivery[]>,
  options: { leaseSeconds?: number } = {},
): Promise<{ drained: number; recorded: Array<Pick<OutboxDelivery, 'id' | 'channel'>> }> {
  return db.transaction(async (trx) => {
    // The lease is set by the statement that takes the rows (`SET LOCAL` as a function): no round
    // trip of its own, which at a few messages a batch cost the relay more than the rows did.
    const { rows } = await trx.raw<{ rows: Array<{ id: string; topic: string; payload: Record<string, unknown> }> }>(
      `WITH lease AS MATERIALIZED (SELECT set_config('idle_in_transaction_session_timeout', ?, true))
       SELECT id, topic, payload FROM outbox, lease WHERE claimed_until IS NULL OR claimed_until < now() ORDER BY id LIMIT ? FOR UPDATE OF outbox SKIP LOCKED`,
      [`${options.leaseSeconds ?? OUTBOX_LEASE_SECONDS}s`, limit],
    );
    if (rows.length === 0) return { drained: 0, recorded: [] };
    const deliveries = await deliver(rows);
    // The messages go and their deliveries are recorded in one statement, one commit.
    const unique = [...new Map(deliveries.map((d) => [d.id, d])).values()];
    const { rows: recorded } = await trx.raw<{ rows: Array<{ id: string; channel: OutboxDelivery['channel'] }> }>(
      `WITH drained AS (DELETE FROM outbox WHERE id = ANY(?::bigint[]))
       INSERT INTO notification_deliveries (id, idempotency_key, event, channel, recipient_key, recipient, data)
       SELECT d.id, d.idempotency_key, d.event, d.channel, d.recipient_key, d.recipient, d.data
         FROM jsonb_to_recordset(?::jsonb) AS d(id text, idempotency_key text, event text, channel text, recipient_key text, recipient jsonb, data jsonb)
       ON CONFLICT (id) DO NOTHING RETURNING id, channel`,
      [rows.map((r) => r.id), JSON.stringify(unique)] as unknown as Knex.RawBinding[],
    );
    return { drained: rows.length, recorded };
  });
}

/** Stores recomputed ETAs, many in one statement. */
export async function updateEtas(db: Knex, etas: Array<{ id: string; etaAt: Date }>): Promise<void> {
  if (etas.length === 0) return;
  await db.raw(
    `UPDATE orders o SET eta_at = v.eta_at FROM (SELECT unnest(?::text[]) AS id, unnest(?::timestamptz[]) AS eta_at) v WHERE o.id = v.id`,
    [etas.map((e) => e.id), etas.map((e) => e.etaAt.toISOString())] as unknown as Knex.RawBinding[],
  );
}
