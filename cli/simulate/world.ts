import { haversineMeters, type LatLng } from '../../domain/location/geo.ts';
import { HOTSPOT_RADIUS, HOTSPOT_SHARE } from './hotspots.ts';
import { randomPointNear } from './movement.ts';
import { pick, type Random } from './random.ts';

export interface SimRestaurant extends LatLng {
  id: string;
  name: string;
  minOrder: number;
  open: boolean;
}

export interface SimMenuItem {
  id: string;
  price: number;
  available: boolean;
}

/**
 * Where things happen: the seeded restaurants, and the optional hot spot that draws most riders
 * and orders. Pure choices from a seeded random source.
 */
export interface World {
  restaurants: SimRestaurant[];
  hotspot: LatLng | null;
}

const inHotspot = (world: World) => (world.hotspot ? world.restaurants.filter((r) => haversineMeters(r, world.hotspot!) <= HOTSPOT_RADIUS) : []);

/** The restaurant of the next order: mostly in the hot spot when there is one. */
export function pickRestaurant(random: Random, world: World): SimRestaurant {
  const hot = inHotspot(world);
  return hot.length > 0 && random() < HOTSPOT_SHARE ? pick(random, hot) : pick(random, world.restaurants);
}

/** Where a rider starts their shift: mostly in the hot spot, otherwise near some restaurant. */
export function riderStart(random: Random, world: World): LatLng {
  if (world.hotspot && random() < HOTSPOT_SHARE) return randomPointNear(random, world.hotspot, HOTSPOT_RADIUS);
  return randomPointNear(random, pick(random, world.restaurants), 1_000);
}

/** A customer 300 m to 2.5 km from the restaurant. */
export function dropoffFor(random: Random, restaurant: LatLng): LatLng {
  return randomPointNear(random, restaurant, 2_500, 300);
}

/** Menu lines that reach the minimum order: random dishes, a few of them more than once. */
export function basket(random: Random, menu: readonly SimMenuItem[], minOrder: number): Array<{ menuItemId: string; quantity: number }> {
  const available = menu.filter((m) => m.available && m.price > 0);
  if (available.length === 0) return [];
  const lines = new Map<string, number>();
  let total = 0;
  // Bounded, so a strange menu (tiny prices, huge minimum) cannot loop for ever.
  for (let i = 0; i < 200 && (total < minOrder || lines.size === 0); i++) {
    const item = pick(random, available);
    const quantity = Math.min(50, (lines.get(item.id) ?? 0) + 1);
    if (quantity === (lines.get(item.id) ?? 0)) continue;
    lines.set(item.id, quantity);
    total += item.price;
  }
  return [...lines].map(([menuItemId, quantity]) => ({ menuItemId, quantity }));
}
