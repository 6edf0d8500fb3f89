import { haversineMeters, type LatLng } from '../location/geo.ts';
import { DEFAULT_SPEED_MPS, DETOUR_FACTOR } from './quote.ts';

/** Below this a rider is waiting at lights or a door, not riding: use the default speed instead. */
const MIN_TRUSTED_SPEED_MPS = 2;

export interface EtaInput {
  status: string;
  now: number;
  /** When cooking is due to finish (accepted at + cookMinutes), if known. */
  cookReadyAt: number | null;
  rider: LatLng | null;
  /** The rider's recent speed (EWMA of reported speeds), m/s. */
  riderSpeed: number | null;
  restaurant: LatLng;
  dropoff: LatLng;
  /**
   * Travel times from a routing engine, where it answered; a missing leg uses the straight-line
   * estimate. `toRestaurantMs`: rider → restaurant. `toDropoffMs`: restaurant → customer before
   * pickup, rider → customer after.
   */
  legs?: { toRestaurantMs?: number | null; toDropoffMs?: number | null };
}

/**
 * ETA (seed 000, DESIGN §5): remaining cook time + rider→restaurant + restaurant→customer, each
 * leg as distance × detour factor ÷ the rider's recent speed (or a default). Pure; returns the
 * expected arrival as epoch ms, or null once the order is over.
 */
export function estimateArrival(input: EtaInput): number | null {
  const speed = input.riderSpeed !== null && input.riderSpeed >= MIN_TRUSTED_SPEED_MPS ? input.riderSpeed : DEFAULT_SPEED_MPS;
  const travelMs = (from: LatLng, to: LatLng) => ((haversineMeters(from, to) * DETOUR_FACTOR) / speed) * 1_000;
  const cookLeft = Math.max(0, (input.cookReadyAt ?? input.now) - input.now);
  switch (input.status) {
    case 'PLACED':
    case 'COOKING':
    case 'READY_FOR_PICKUP': {
      const toRestaurant = input.rider ? (input.legs?.toRestaurantMs ?? travelMs(input.rider, input.restaurant)) : 0;
      return input.now + Math.max(cookLeft, toRestaurant) + (input.legs?.toDropoffMs ?? travelMs(input.restaurant, input.dropoff));
    }
    case 'PICKED_UP':
    case 'DELIVERING':
      return input.now + (input.legs?.toDropoffMs ?? travelMs(input.rider ?? input.restaurant, input.dropoff));
    default:
      return null;
  }
}

/**
 * The legs an ETA needs for an order in `status`, from where they start: before pickup the rider's
 * ride to the restaurant (when a rider is known) and the restaurant to the customer; after pickup
 * the rider (or the restaurant) to the customer; none once the order is over.
 */
export function etaLegs(status: string, rider: LatLng | null, restaurant: LatLng, dropoff: LatLng): { toRestaurant?: [LatLng, LatLng]; toDropoff?: [LatLng, LatLng] } {
  switch (status) {
    case 'PLACED':
    case 'COOKING':
    case 'READY_FOR_PICKUP':
      return { ...(rider && { toRestaurant: [rider, restaurant] as [LatLng, LatLng] }), toDropoff: [restaurant, dropoff] };
    case 'PICKED_UP':
    case 'DELIVERING':
      return { toDropoff: [rider ?? restaurant, dropoff] };
    default:
      return {};
  }
}

/** Trackers hear about an ETA change only when it moves by this much. */
export const ETA_CHANGE_MS = 30_000;
