import { z } from 'zod';
import { CATEGORIES } from '../../domain/catalogue/catalogue.ts';

/** `GET /v1/group-orders?lat&lng[&category][&limit]`: where to look, and for what. */
export const nearbyQuery = z.object({
  lat: z.coerce.number({ error: 'a latitude in degrees, e.g. 37.4979' }).min(-90, 'between -90 and 90').max(90, 'between -90 and 90'),
  lng: z.coerce.number({ error: 'a longitude in degrees, e.g. 127.0276' }).min(-180, 'between -180 and 180').max(180, 'between -180 and 180'),
  category: z.enum(CATEGORIES, { error: `one of ${CATEGORIES.join(', ')}` }).optional(),
  limit: z.coerce.number({ error: 'a whole number' }).int('a whole number').min(1, 'at least 1').max(100, 'at most 100').default(50),
});

export type NearbyQuery = z.output<typeof nearbyQuery>;

const categories: ReadonlySet<string> = new Set(CATEGORIES);

/**
 * The common case of `nearbyQuery`, checked by hand: every customer's app refreshes the list, and
 * zod costs more than the rest of the request's own work. It returns what `nearbyQuery` would for
 * a query it accepts and undefined for anything else, including what it is unsure of (an empty
 * or repeated value); the route then runs `nearbyQuery`, which names every wrong field. So it may
 * only ever accept what `nearbyQuery` accepts (tests/nearby-query.test.ts compares them).
 */
export function quickNearbyQuery(raw: Record<string, string | string[] | undefined>): NearbyQuery | undefined {
  const lat = number(raw.lat);
  if (lat === undefined || !(lat >= -90 && lat <= 90)) return undefined;
  const lng = number(raw.lng);
  if (lng === undefined || !(lng >= -180 && lng <= 180)) return undefined;
  let limit = 50;
  if ('limit' in raw) {
    const given = number(raw.limit);
    if (given === undefined || !Number.isSafeInteger(given) || given < 1 || given > 100) return undefined;
    limit = given;
  }
  // zod's output holds the known keys that were given, in schema order, and drops the rest.
  if (!('category' in raw)) return { lat, lng, limit };
  const category = raw.category;
  if (typeof category !== 'string' || !categories.has(category)) return undefined;
  return { lat, lng, category: category as NearbyQuery['category'], limit };
}

/** What `z.coerce.number` makes of one query value (Number(text)), for the values it is sure of. */
function number(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}
