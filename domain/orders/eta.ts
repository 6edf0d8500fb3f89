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
      const toRestaurant = input.rider ? travelMs(input.rider, input.restaurant) : 0;
      return input.now + Math.max(cookLeft, toRestaurant) + travelMs(input.restaurant, input.dropoff);
    }
    case 'PICKED_UP':
    case 'DELIVERING':
      return input.now + travelMs(input.rider ?? input.restaurant, input.dropoff);
    default:
      return null;
  }
}

/** Trackers hear about an ETA change only when it moves by this much. */
export const ETA_CHANGE_MS = 30_000;
