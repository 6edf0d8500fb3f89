import type { Knex } from 'knex';
import { getRestaurant, menuItemsByIds, menuOf, type MenuItem, type Restaurant } from '../db/restaurants-repository.ts';

/** What placing an order reads of the catalogue. */
export interface CatalogueReads {
  restaurant(id: string): Promise<Restaurant | undefined>;
  /** The restaurant's items among `ids`; unknown ids and other restaurants' items are absent. */
  menuItems(restaurantId: string, ids: readonly string[]): Promise<MenuItem[]>;
}

/** Straight from Postgres, every time. */
export function catalogueFromDb(db: Knex): CatalogueReads {
  return { restaurant: (id) => getRestaurant(db, id), menuItems: (restaurantId, ids) => menuItemsByIds(db, restaurantId, ids) };
}

export interface CachedCatalogue extends CatalogueReads {
  /** Forgets one restaurant (or all): the next order reads it again. */
  invalidate(restaurantId?: string): void;
}

/**
 * The catalogue in process memory for `ttlMs`: at peak every order names one of a few hundred
 * busy restaurants, and reading the restaurant and its dishes for each was two of an order's three
 * round trips to Postgres. One read per restaurant per `ttlMs` (concurrent misses share it)
 * instead. The price of the speed: a dish sold out or a restaurant closed may still be ordered for
 * up to `ttlMs`, and the restaurant rejects such an order as it would one placed a moment earlier.
 * The catalogue is written only by `deligo seed` (db/restaurants-repository.ts `upsertCatalogue`),
 * in another process, so the expiry is what bounds staleness; `invalidate` is for this process.
 */
export function cachedCatalogue(db: Knex, options: { ttlMs: number; maxRestaurants?: number }): CachedCatalogue {
  const maxRestaurants = options.maxRestaurants ?? 10_000;
  const entries = new Map<string, { at: number; loaded: Promise<{ restaurant: Restaurant | undefined; menu: Map<string, MenuItem> }> }>();
  const load = (id: string) => {
    const now = Date.now();
    const cached = entries.get(id);
    if (cached && now - cached.at < options.ttlMs) return cached.loaded;
    const loaded = Promise.all([getRestaurant(db, id), menuOf(db, id)]).then(([restaurant, menu]) => ({ restaurant, menu: new Map(menu.map((m) => [m.id, m])) }));
    // A failed read is not remembered: the next order tries again.
    loaded.catch(() => entries.get(id)?.loaded === loaded && entries.delete(id));
    // Oldest first in a Map: past the bound, the least recently loaded restaurant goes.
    entries.delete(id);
    if (entries.size >= maxRestaurants) entries.delete(entries.keys().next().value!);
    entries.set(id, { at: now, loaded });
    return loaded;
  };
  return {
    async restaurant(id) {
      return (await load(id)).restaurant;
    },
    async menuItems(restaurantId, ids) {
      const { menu } = await load(restaurantId);
      return [...new Set(ids)].flatMap((id) => menu.get(id) ?? []);
    },
    invalidate(restaurantId) {
      if (restaurantId === undefined) entries.clear();
      else entries.delete(restaurantId);
    },
  };
}
