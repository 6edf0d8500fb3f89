/** A position in WGS-84 degrees. */
export interface LatLng {
  lat: number;
  lng: number;
}

/** A fix on a rider's route. `flagged` marks a point that the fraud rules took out of the route. */
export interface RoutePoint extends LatLng {
  /** Epoch ms. A point's identity on the route: a second point with the same value is a duplicate. */
  recordedAt: number;
  flagged?: boolean;
}

/**
 * Mean Earth radius (IUGG), metres. On a sphere, haversine is within about 0.5% of the
 * ellipsoid, which is plenty for delivery distances. Exported so that tests and settlement
 * reports can show their arithmetic.
 */
export const EARTH_RADIUS_METERS = 6_371_008.8;

const toRadians = (degrees: number) => (degrees * Math.PI) / 180;

/** Great-circle distance between two positions, in metres. */
export function haversineMeters(a: LatLng, b: LatLng): number {
  const dLat = toRadians(b.lat - a.lat);
  const dLng = toRadians(b.lng - a.lng);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(toRadians(a.lat)) * Math.cos(toRadians(b.lat)) * Math.sin(dLng / 2) ** 2;
  // Rounding can push h a hair above 1 for antipodal points; asin would return NaN.
  return 2 * EARTH_RADIUS_METERS * Math.asin(Math.min(1, Math.sqrt(h)));
}

export interface RouteDistanceOptions {
  /**
   * Leave out points marked `flagged: true`. The route then runs straight from the point before
   * a removed point to the point after it, so a one-point GPS spike adds nothing. There is no
   * default: settlement must say which distance it pays for.
   */
  excludeFlagged: boolean;
}

/**
 * Length of a route in metres: the sum of great-circle distances between consecutive points in
 * recordedAt order (input order does not matter). A repeated recordedAt is the same fix sent
 * twice; the first copy counts and the others are ignored.
 */
export function routeDistanceMeters(points: readonly RoutePoint[], options: RouteDistanceOptions): number {
  const seen = new Set<number>();
  const route: RoutePoint[] = [];
  for (const point of points) {
    if (seen.has(point.recordedAt)) continue;
    seen.add(point.recordedAt);
    if (options.excludeFlagged && point.flagged === true) continue;
    route.push(point);
  }
  route.sort((a, b) => a.recordedAt - b.recordedAt);
  let meters = 0;
  for (let i = 1; i < route.length; i++) meters += haversineMeters(route[i - 1]!, route[i]!);
  return meters;
}
