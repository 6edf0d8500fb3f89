import type { Knex } from 'knex';

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
  const inserted = await db('delivery_routes').insert(route).onConflict('order_id').ignore().returning('order_id');
  return inserted.length > 0;
}

export async function routeOf(db: Knex, orderId: string): Promise<DeliveryRouteRow | undefined> {
  return db('delivery_routes').where({ order_id: orderId }).first<DeliveryRouteRow | undefined>();
}

export async function deliveriesOf(db: Knex, riderId: string, limit: number): Promise<DeliveryRouteRow[]> {
  return db('delivery_routes').where({ rider_id: riderId }).orderBy('delivered_at', 'desc').limit(limit).select<DeliveryRouteRow[]>('*');
}

/** When the order reached each status (from its event log). */
export async function statusTimes(db: Knex, orderId: string): Promise<Map<string, Date>> {
  const rows = await db('order_events').where({ order_id: orderId }).select<{ to_status: string; at: Date }[]>('to_status', 'at');
  return new Map(rows.map((r) => [r.to_status, r.at]));
}

/** The fare of the offer the rider accepted for this order. */
export async function acceptedFare(db: Knex, orderId: string): Promise<number | undefined> {
  const row = await db('dispatch_offers').where({ order_id: orderId, status: 'ACCEPTED' }).first<{ expected_earning: number } | undefined>('expected_earning');
  return row?.expected_earning;
}
