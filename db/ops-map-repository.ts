import type { Knex } from 'knex';
import type { MapOrder } from '../domain/ops-map/fleet-view.ts';

/** Open orders with where they start and end, newest first (served by `orders_open_by_created`). */
export async function openOrdersForMap(db: Knex, limit: number): Promise<MapOrder[]> {
  const rows = await db('orders as o')
    .join('restaurants as r', 'r.id', 'o.restaurant_id')
    .whereRaw('o.is_open')
    .orderBy('o.created_at', 'desc')
    .limit(limit)
    .select<Array<{ id: string; status: string; rider_id: string | null; name: string; lat: number; lng: number; dropoff_lat: number; dropoff_lng: number }>>(
      'o.id',
      'o.status',
      'o.rider_id',
      'r.name',
      'r.lat',
      'r.lng',
      'o.dropoff_lat',
      'o.dropoff_lng',
    );
  return rows.map((r) => ({
    id: r.id,
    status: r.status,
    riderId: r.rider_id,
    restaurant: { lat: r.lat, lng: r.lng, name: r.name },
    dropoff: { lat: r.dropoff_lat, lng: r.dropoff_lng },
  }));
}
