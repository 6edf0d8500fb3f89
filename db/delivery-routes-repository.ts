import type { Knex } from 'knex';
import { keptArray, preparedQuery } from './prepared.ts';

export interface DeliveryRouteRow {
  order_id: string;
  rider_id: string;
  picked_up_at: Date;
  delivered_at: Date;
  polyline: string;
  point_count: number;
  flagged_count: number;
  settlement_distance_m: number;
  fare: number;
}

/** Archives once: a repeated archive of the same order keeps the first. */
export async function archiveRoute(db: Knex, route: DeliveryRouteRow): Promise<boolean> {
  return (await archiveRoutes(db, [route])).has(route.order_id);
}

/** {@link archiveRoute} for many orders in one statement; returns the orders archived now. */
export async function archiveRoutes(db: Knex, routes: readonly DeliveryRouteRow[]): Promise<Set<string>> {
  if (routes.length === 0) return new Set();
  const inserted = await db('delivery_routes').insert(routes).onConflict('order_id').ignore().returning<Array<{ order_id: string }>>('order_id');
  return new Set(inserted.map((r) => r.order_id));
}

export async function routeOf(db: Knex, orderId: string): Promise<DeliveryRouteRow | undefined> {
  return db('delivery_routes').where({ order_id: orderId }).first<DeliveryRouteRow | undefined>();
}

export async function deliveriesOf(db: Knex, riderId: string, limit: number): Promise<DeliveryRouteRow[]> {
  return db('delivery_routes').where({ rider_id: riderId }).orderBy('delivered_at', 'desc').limit(limit).select<DeliveryRouteRow[]>('*');
}

/** What archiving a delivered order's route needs from Postgres, read in one query. */
export interface ArchiveSubject {
  status: string;
  rider_id: string | null;
  created_at: Date;
  /** When the order reached these statuses (from its event log), if it did. */
  picked_up_at: Date | null;
  delivering_at: Date | null;
  delivered_at: Date | null;
  /** The fare of the offer the rider accepted. */
  fare: number | null;
}

/**
 * The order, when it reached each step of the ride and the accepted fare, in one statement rather
 * than three (every delivered order is archived: at a hot spot's peak, hundreds a minute).
 */
export async function archiveSubject(db: Knex, orderId: string): Promise<ArchiveSubject | undefined> {
  return (await archiveSubjects(db, [orderId])).get(orderId);
}

/** Prepared, its plan kept (db/prepared.ts): planning it cost more than running it, once per archive job. */
const ARCHIVE_SUBJECTS = `
  SELECT o.id, o.status, o.rider_id, o.created_at, t.picked_up_at, t.delivering_at, t.delivered_at,
         (SELECT d.expected_earning FROM dispatch_offers d WHERE d.order_id = o.id AND d.status = 'ACCEPTED' LIMIT 1) AS fare
    FROM unnest(${keptArray(1, 'text')}) AS wanted(id)
    JOIN orders o ON o.id = wanted.id
    CROSS JOIN LATERAL (
      SELECT max(e.at) FILTER (WHERE e.to_status = 'PICKED_UP') AS picked_up_at,
             max(e.at) FILTER (WHERE e.to_status = 'DELIVERING') AS delivering_at,
             max(e.at) FILTER (WHERE e.to_status = 'DELIVERED') AS delivered_at
        FROM order_events e WHERE e.order_id = o.id) t`;

/** {@link archiveSubject} for many orders in one statement (one archive job's relay batch), by order id. */
export async function archiveSubjects(db: Knex, orderIds: readonly string[]): Promise<Map<string, ArchiveSubject>> {
  if (orderIds.length === 0) return new Map();
  const rows = await preparedQuery<ArchiveSubject & { id: string }>(db, 'orders.archive-subjects', ARCHIVE_SUBJECTS, [[...new Set(orderIds)]]);
  return new Map(rows.map(({ id, ...subject }) => [id, subject]));
}
