/** A rider who could take an order, with what seed 003 ranks by. */
export interface Candidate {
  riderId: string;
  distanceMeters: number;
  /** The farthest the rider wants to ride to a pickup. */
  maxDistanceMeters: number;
  autoAccept: boolean;
  /** Accepted ÷ received offers; riders with no history count as 1. */
  acceptanceRate: number;
}

/** Distances this close are a tie, so the preferences decide between near-equal riders. */
export const DISTANCE_BAND_METERS = 200;

/**
 * Pure ranking (seed 003): riders who would not ride this far are out; then nearest first, in
 * 200 m bands; within a band, auto-accepting riders first (no 15 s wait), then the higher
 * acceptance rate, then the exact distance, then the id so the order is stable.
 */
export function rankCandidates(candidates: readonly Candidate[]): Candidate[] {
  return candidates
    .filter((c) => c.distanceMeters <= c.maxDistanceMeters)
    .sort(
      (a, b) =>
        Math.floor(a.distanceMeters / DISTANCE_BAND_METERS) - Math.floor(b.distanceMeters / DISTANCE_BAND_METERS) ||
        Number(b.autoAccept) - Number(a.autoAccept) ||
        b.acceptanceRate - a.acceptanceRate ||
        a.distanceMeters - b.distanceMeters ||
        a.riderId.localeCompare(b.riderId),
    );
}

export function acceptanceRate(received: number, accepted: number): number {
  return received === 0 ? 1 : accepted / received;
}

/** A rider's pay for one delivery, in won: a base fare plus distance (pickup leg and delivery leg). */
export function expectedEarning(pickupMeters: number, deliveryMeters: number): number {
  const BASE = 3_000;
  const PER_KM = 500;
  return BASE + Math.round(((pickupMeters + deliveryMeters) / 1_000) * PER_KM / 100) * 100;
}
