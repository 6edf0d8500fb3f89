import { haversineMeters, type LatLng } from '../../domain/location/geo.ts';
import { between, type Random } from './random.ts';

/**
 * How simulated riders move: along street-like paths (blocks of straight legs, not beelines),
 * at scooter speeds, reporting GPS with a little noise. Pure: positions in, positions out.
 */

const METERS_PER_DEG_LAT = 111_320;
const metersPerDegLng = (lat: number) => METERS_PER_DEG_LAT * Math.cos((lat * Math.PI) / 180);

/** The point `north` and `east` metres from `p`. */
export function offset(p: LatLng, north: number, east: number): LatLng {
  return { lat: p.lat + north / METERS_PER_DEG_LAT, lng: p.lng + east / metersPerDegLng(p.lat) };
}

/** Compass bearing from a to b, degrees clockwise from north, 0–360. */
export function bearing(a: LatLng, b: LatLng): number {
  const north = (b.lat - a.lat) * METERS_PER_DEG_LAT;
  const east = (b.lng - a.lng) * metersPerDegLng(a.lat);
  return ((Math.atan2(east, north) * 180) / Math.PI + 360) % 360;
}

/** A uniformly random point within `radiusMeters` of `centre`. */
export function randomPointNear(random: Random, centre: LatLng, radiusMeters: number, minMeters = 0): LatLng {
  const r = Math.sqrt(between(random, (minMeters / radiusMeters) ** 2, 1)) * radiusMeters;
  const angle = random() * 2 * Math.PI;
  return offset(centre, r * Math.cos(angle), r * Math.sin(angle));
}

/**
 * A street-like path from `from` to `to`: legs along the grid (north-south, east-west), turning
 * at one or two corners, the way a rider works through city blocks. Ends exactly at `to`.
 */
export function streetPath(random: Random, from: LatLng, to: LatLng): LatLng[] {
  const north = (to.lat - from.lat) * METERS_PER_DEG_LAT;
  const east = (to.lng - from.lng) * metersPerDegLng(from.lat);
  if (Math.hypot(north, east) < 30) return [to];
  // Go part of the way along one axis, all of the other, then the rest of the first.
  const split = between(random, 0.3, 0.7);
  const first = random() < 0.5 ? 'north' : 'east';
  const a = first === 'north' ? offset(from, north * split, 0) : offset(from, 0, east * split);
  const b = first === 'north' ? offset(a, 0, east) : offset(a, north, 0);
  return [a, b, to];
}

export interface Step {
  position: LatLng;
  /** Degrees, the direction of travel; null when standing still. */
  heading: number | null;
  /** Waypoints still ahead. */
  path: LatLng[];
  arrived: boolean;
  /** Metres actually covered. */
  moved: number;
}

/** Moves `meters` along `path` from `position`, turning at waypoints. */
export function advance(position: LatLng, path: readonly LatLng[], meters: number): Step {
  let here = position;
  let left = meters;
  let heading: number | null = null;
  const ahead = [...path];
  while (ahead.length > 0 && left > 0) {
    const next = ahead[0]!;
    const d = haversineMeters(here, next);
    heading = d > 0.01 ? bearing(here, next) : heading;
    if (d <= left) {
      here = next;
      left -= d;
      ahead.shift();
    } else {
      const f = left / d;
      here = { lat: here.lat + (next.lat - here.lat) * f, lng: here.lng + (next.lng - here.lng) * f };
      left = 0;
    }
  }
  return { position: here, heading, path: ahead, arrived: ahead.length === 0, moved: meters - left };
}

/** A reported fix: the true position blurred by GPS noise of about `accuracy` metres. */
export function gpsFix(random: Random, truth: LatLng, accuracy: number): LatLng {
  const noise = accuracy * 0.3;
  return offset(truth, between(random, -noise, noise), between(random, -noise, noise));
}

/** A scooter's cruising speed in town, m/s (about 22–32 km/h, well under the 120 km/h fraud limit). */
export function cruisingSpeed(random: Random): number {
  return between(random, 6, 9);
}
