import type { LatLng } from '../domain/location/geo.ts';
import { etaLegs } from '../domain/orders/eta.ts';
import type { PlannedRoute, RoutePlanner } from './route-planner.ts';

export interface GuidanceLeg extends PlannedRoute {
  /** `to-restaurant`: the rider's ride to the pickup; `to-dropoff`: on to the customer. */
  leg: 'to-restaurant' | 'to-dropoff';
  from: LatLng;
  to: LatLng;
}

/**
 * Route guidance (seed 000's 최적 경로) for an order in `status`: before pickup the rider's ride to
 * the restaurant and then to the customer, after pickup from the rider to the customer; nothing
 * once the order is over. Each leg comes from the routing engine when it answers, else it is the
 * straight-line estimate at the rider's recent speed.
 */
export async function planGuidance(
  planner: RoutePlanner,
  order: { status: string; rider: LatLng | null; riderSpeed: number | null; restaurant: LatLng; dropoff: LatLng },
): Promise<GuidanceLeg[]> {
  const { toRestaurant, toDropoff } = etaLegs(order.status, order.rider, order.restaurant, order.dropoff);
  // A rider waiting at a door is not riding at that speed (domain/orders/eta.ts uses the same floor).
  const speed = order.riderSpeed !== null && order.riderSpeed >= 2 ? order.riderSpeed : undefined;
  const legs: Array<[GuidanceLeg['leg'], [LatLng, LatLng]]> = [];
  if (toRestaurant) legs.push(['to-restaurant', toRestaurant]);
  if (toDropoff) legs.push(['to-dropoff', toDropoff]);
  return Promise.all(legs.map(async ([leg, [from, to]]) => ({ leg, from, to, ...(await planner.route(from, to, speed)) })));
}
