import type { Knex } from 'knex';
import type { Category, CatalogueMenuItem, CatalogueRestaurant } from '../domain/catalogue/catalogue.ts';
import { EARTH_RADIUS_METERS } from '../domain/location/geo.ts';

export type Restaurant = CatalogueRestaurant;
export type MenuItem = CatalogueMenuItem;

/** A restaurant in a listing, with its great-circle distance from the point asked about. */
export interface NearbyRestaurant extends Restaurant {
  distanceMeters: number;
}

export interface NearbyQuery {
  lat: number;
  lng: number;
  radiusMeters: number;
  category?: Category;
  limit: number;
}

interface RestaurantRow {
  id: string;
  name: string;
  category: Category;
  lat: number;
  lng: number;
  address: string;
  min_order: number;
  delivery_tip: number;
  prep_minutes: number;
  open: boolean;
}

interface MenuItemRow {
  id: string;
  restaurant_id: string;
  name: string;
  description: string | null;
  price: number;
  available: boolean;
  sort: number;
}

const RESTAURANT_COLUMNS = ['id', 'name', 'category', 'lat', 'lng', 'address', 'min_order', 'delivery_tip', 'prep_minutes', 'open'];
const MENU_COLUMNS = ['id', 'restaurant_id', 'name', 'description', 'price', 'available', 'sort'];

// Haversine in SQL, the same formula as domain/location/geo.ts; least() guards asin against rounding
// above 1. The casts matter: an untyped parameter next to `2 *` would be read as an integer.
const DISTANCE_SQL = `2 * ?::float8 * asin(least(1, sqrt(
  power(sin(radians(lat - ?::float8) / 2), 2)
  + cos(radians(?::float8)) * cos(radians(lat)) * power(sin(radians(lng - ?::float8) / 2), 2))))`;

/**
 * Restaurants within `radiusMeters` of a point, nearest first (ties by id, so pages are stable).
 * A bounding box lets the (lat, lng) index cut the candidates; the exact distance is computed
 * in SQL for those only. Closed restaurants are listed too, with `open: false`.
 */
export async function listRestaurantsNear(db: Knex, query: NearbyQuery): Promise<NearbyRestaurant[]> {
  const box = boundingBox(query.lat, query.lng, query.radiusMeters);
  const inner = db('restaurants')
    .select(RESTAURANT_COLUMNS)
    .select(db.raw(`${DISTANCE_SQL} AS distance_m`, [EARTH_RADIUS_METERS, query.lat, query.lat, query.lng]))
    .whereBetween('lat', [box.minLat, box.maxLat]);
  if (box.lng) inner.whereBetween('lng', [box.lng.min, box.lng.max]);
  if (query.category) inner.where({ category: query.category });
  const rows = await db
    .select<(RestaurantRow & { distance_m: number })[]>('*')
    .from(inner.as('candidates'))
    .where('distance_m', '<=', query.radiusMeters)
    .orderBy([{ column: 'distance_m' }, { column: 'id' }])
    .limit(query.limit);
  return rows.map((row) => ({ ...toRestaurant(row), distanceMeters: row.distance_m }));
}

export async function getRestaurant(db: Knex, id: string): Promise<Restaurant | undefined> {
  const row = await db('restaurants').where({ id }).first<RestaurantRow | undefined>(RESTAURANT_COLUMNS);
  return row && toRestaurant(row);
}

/** The whole menu, sold-out dishes included (the app greys them out), in display order. */
export async function menuOf(db: Knex, restaurantId: string): Promise<MenuItem[]> {
  const rows = await db('menu_items').where({ restaurant_id: restaurantId }).orderBy([{ column: 'sort' }, { column: 'id' }]).select<MenuItemRow[]>(MENU_COLUMNS);
  return rows.map(toMenuItem);
}

/**
 * The items of one restaurant among `ids`. An id of another restaurant, or an unknown one, is
 * simply absent from the answer: the caller compares lengths to reject a foreign item.
 */
export async function menuItemsByIds(db: Knex, restaurantId: string, ids: readonly string[]): Promise<MenuItem[]> {
  if (ids.length === 0) return [];
  const rows = await db('menu_items')
    .where({ restaurant_id: restaurantId })
    .whereIn('id', [...new Set(ids)])
    .orderBy([{ column: 'sort' }, { column: 'id' }])
    .select<MenuItemRow[]>(MENU_COLUMNS);
  return rows.map(toMenuItem);
}

/**
 * Inserts or updates restaurants and menu items by id, in one transaction, so running the seed
 * again refreshes prices and names without duplicating anything. Rows missing from the input are
 * left alone: orders may still point at them.
 */
export async function upsertCatalogue(db: Knex, restaurants: readonly Restaurant[], items: readonly MenuItem[]): Promise<{ restaurants: number; items: number }> {
  await db.transaction(async (trx) => {
    for (const chunk of chunks(restaurants.map(toRestaurantRow), 500)) {
      await trx('restaurants').insert(chunk).onConflict('id').merge(RESTAURANT_COLUMNS.filter((c) => c !== 'id'));
    }
    for (const chunk of chunks(items.map(toMenuItemRow), 500)) {
      await trx('menu_items').insert(chunk).onConflict('id').merge(MENU_COLUMNS.filter((c) => c !== 'id'));
    }
  });
  return { restaurants: restaurants.length, items: items.length };
}

/**
 * Degrees around a centre that contain every point within `meters` on the sphere. The longitude
 * span is the exact one for a spherical cap (a little wider than meters/cos(lat)); it is left
 * out (undefined) near the poles or across the antimeridian, where a box would not be one range.
 */
export function boundingBox(lat: number, lng: number, meters: number): { minLat: number; maxLat: number; lng?: { min: number; max: number } } {
  const angular = meters / EARTH_RADIUS_METERS;
  const dLat = (angular * 180) / Math.PI;
  const minLat = lat - dLat;
  const maxLat = lat + dLat;
  const ratio = Math.sin(angular) / Math.cos((lat * Math.PI) / 180);
  if (minLat <= -90 || maxLat >= 90 || ratio >= 1) return { minLat, maxLat };
  const dLng = (Math.asin(ratio) * 180) / Math.PI;
  if (lng - dLng < -180 || lng + dLng > 180) return { minLat, maxLat };
  return { minLat, maxLat, lng: { min: lng - dLng, max: lng + dLng } };
}

function toRestaurant(row: RestaurantRow): Restaurant {
  return {
    id: row.id,
    name: row.name,
    category: row.category,
    lat: row.lat,
    lng: row.lng,
    address: row.address,
    minOrder: row.min_order,
    deliveryTip: row.delivery_tip,
    prepMinutes: row.prep_minutes,
    open: row.open,
  };
}

function toRestaurantRow(r: Restaurant): RestaurantRow {
  return { id: r.id, name: r.name, category: r.category, lat: r.lat, lng: r.lng, address: r.address, min_order: r.minOrder, delivery_tip: r.deliveryTip, prep_minutes: r.prepMinutes, open: r.open };
}

function toMenuItem(row: MenuItemRow): MenuItem {
  return { id: row.id, restaurantId: row.restaurant_id, name: row.name, description: row.description, price: row.price, available: row.available, sort: row.sort };
}

function toMenuItemRow(i: MenuItem): MenuItemRow {
  return { id: i.id, restaurant_id: i.restaurantId, name: i.name, description: i.description, price: i.price, available: i.available, sort: i.sort };
}

function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
