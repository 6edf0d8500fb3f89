import { haversineMeters, type LatLng } from '../location/geo.ts';

export interface PricedLine {
  menuItemId: string;
  name: string;
  unitPrice: number;
  quantity: number;
}

/** Integer won throughout: subtotal, tip and total never meet a float. */
export function priceOrder(lines: readonly PricedLine[], deliveryTip: number): { subtotal: number; deliveryTip: number; total: number } {
  const subtotal = lines.reduce((sum, line) => sum + line.unitPrice * line.quantity, 0);
  return { subtotal, deliveryTip, total: subtotal + deliveryTip };
}

/** Roads are longer than the straight line between two points. */
export const DETOUR_FACTOR = 1.3;
/** A city scooter's average, when no rider's own speed is known yet (m/s ≈ 18 km/h). */
export const DEFAULT_SPEED_MPS = 5;
/** Until dispatch finds a rider, assume one this far from the restaurant. */
const ASSUMED_PICKUP_METERS = 1_500;

/**
 * The ETA quoted when an order is placed: cooking time, a rider's trip to the restaurant, and the
 * trip to the customer. Live ETAs replace it once a rider is assigned.
 */
export function quoteEtaMinutes(input: { prepMinutes: number; restaurant: LatLng; dropoff: LatLng }): number {
  const travel = (metres: number) => (metres * DETOUR_FACTOR) / DEFAULT_SPEED_MPS / 60;
  const toCustomer = travel(haversineMeters(input.restaurant, input.dropoff));
  const toRestaurant = travel(ASSUMED_PICKUP_METERS);
  // The rider rides to the restaurant while the food cooks; whichever takes longer counts.
  return Math.ceil(Math.max(input.prepMinutes, toRestaurant) + toCustomer);
}
