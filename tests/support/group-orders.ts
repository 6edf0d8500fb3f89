import { seedCatalogue } from '../../cli/commands/seed.ts';
import type { GroupOrderDeps } from '../../group-orders/deps.ts';
import { createOpenGroupIndex } from '../../group-orders/open-index.ts';
import type { TestPlatform } from './services.ts';

export interface GroupFixture {
  restaurant: { id: string; lat: number; lng: number; min_order: number; delivery_tip: number; category: string };
  /** Available items, priciest first. */
  menu: Array<{ id: string; price: number; name: string }>;
  /** An item of another restaurant. */
  foreign: { id: string };
  dropoff: { lat: number; lng: number; address: string };
  /** Enough of the priciest item to clear the minimum order alone. */
  fullMenu(): Array<{ menuItemId: string; quantity: number }>;
}

/** Seeds the catalogue and picks an open restaurant with a drop-off about 550 m away. */
export async function groupFixture(platform: TestPlatform): Promise<GroupFixture> {
  await seedCatalogue(platform.db);
  const restaurant = await platform.db('restaurants').where({ open: true }).orderBy('id').first();
  const menu = await platform.db('menu_items').where({ restaurant_id: restaurant.id, available: true }).orderBy('price', 'desc').select('id', 'price', 'name');
  const foreign = await platform.db('menu_items').whereNot({ restaurant_id: restaurant.id }).first('id');
  return {
    restaurant,
    menu,
    foreign,
    dropoff: { lat: restaurant.lat + 0.005, lng: restaurant.lng, address: '서울 강남구 테헤란로 123' },
    fullMenu: () => [{ menuItemId: menu[0]!.id, quantity: Math.ceil(restaurant.min_order / menu[0]!.price) }],
  };
}

/** The use cases' dependencies on a test platform, for calling them without HTTP. */
export function groupDeps(platform: TestPlatform): GroupOrderDeps {
  return {
    db: platform.db,
    queues: platform.queues,
    config: platform.config,
    logger: platform.logger,
    index: createOpenGroupIndex(platform.redis, platform.config.queuePrefix),
    kickRelay: async () => {},
  };
}

/** Metres north of a point, in degrees of latitude (haversine's earth radius). */
export const metersNorth = (meters: number) => (meters / 6_371_008.8) * (180 / Math.PI);
