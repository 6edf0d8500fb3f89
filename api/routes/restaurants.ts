import type { Knex } from 'knex';
import { z } from 'zod';
import { getRestaurant, listRestaurantsNear, menuOf } from '../../db/restaurants-repository.ts';
import { CATEGORIES } from '../../domain/catalogue/catalogue.ts';
import { ROLES } from '../../domain/roles.ts';
import { notFound } from '../errors.ts';
import { defineRoute } from '../route.ts';

/** Default and ceiling of `radius` (metres) and `limit` on the listing. */
export const RESTAURANT_LISTING = { radius: 3_000, maxRadius: 20_000, limit: 50, maxLimit: 200 } as const;

const nearbyQuery = z.object({
  lat: z.coerce.number({ error: 'a latitude in degrees, e.g. 37.4979' }).min(-90, 'between -90 and 90').max(90, 'between -90 and 90'),
  lng: z.coerce.number({ error: 'a longitude in degrees, e.g. 127.0276' }).min(-180, 'between -180 and 180').max(180, 'between -180 and 180'),
  category: z.enum(CATEGORIES, { error: `one of ${CATEGORIES.join(', ')}` }).optional(),
  radius: z.coerce
    .number({ error: 'metres, e.g. 3000' })
    .positive('more than 0 m')
    .max(RESTAURANT_LISTING.maxRadius, 'at most 20,000 m')
    .default(RESTAURANT_LISTING.radius),
  limit: z.coerce
    .number({ error: 'a whole number' })
    .int('a whole number')
    .min(1, 'at least 1')
    .max(RESTAURANT_LISTING.maxLimit, 'at most 200')
    .default(RESTAURANT_LISTING.limit),
});

const restaurantId = z.object({ id: z.string().trim().min(1, 'a restaurant id').max(128, 'at most 128 characters') });

/** The catalogue as customers browse it; any signed-in role may read it. */
export function restaurantRoutes(deps: { db: Knex }) {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/restaurants',
      roles: ROLES,
      query: nearbyQuery,
      async handler({ query }) {
        const found = await listRestaurantsNear(deps.db, {
          lat: query.lat,
          lng: query.lng,
          radiusMeters: query.radius,
          category: query.category,
          limit: query.limit,
        });
        return { body: { restaurants: found.map((r) => ({ ...r, distanceMeters: Math.round(r.distanceMeters) })) } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/restaurants/:id/menu',
      roles: ROLES,
      params: restaurantId,
      async handler({ params }) {
        const restaurant = await getRestaurant(deps.db, params.id);
        if (!restaurant) throw notFound(`no restaurant with id ${params.id}`);
        const items = await menuOf(deps.db, restaurant.id);
        return {
          body: {
            restaurant,
            items: items.map((i) => ({ id: i.id, name: i.name, description: i.description, price: i.price, available: i.available })),
          },
        };
      },
    }),
  ];
}
