import type { Redis } from 'ioredis';
import type { LocationPoint } from '../../domain/location/point.ts';
import { seededRandom } from '../../domain/random.ts';
import type { LiveLocation, NearbyRider } from '../../location/live-location.ts';
import { FRESH_MS, SPARE_CANDIDATES, type NearbyQuery } from '../../location/nearby-search.ts';

export const GANGNAM = { lat: 37.4979, lng: 127.0276 };

/**
 * A fleet around 강남역 in every state nearby must tell apart, written through the real
 * live-location code: available and fresh; busy, offline and stale riders that are still in the
 * GEO index (a status change racing a batch, a rider the sweeper has not reached yet); a rider
 * exactly FRESH_MS old (still fresh); and riders out of the index (busy, offline). Clusters of
 * riders within a few metres of each other put many candidates in one cell; riders near cell
 * edges make searches cross cells. Returns where every indexed rider was put, for the reference.
 */
export async function seedNearbyFleet(live: LiveLocation, now: number, count = 400): Promise<Array<{ riderId: string; lat: number; lng: number }>> {
  const random = seededRandom(7);
  const indexed: Array<{ riderId: string; lat: number; lng: number }> = [];
  const point = (riderId: string, lat: number, lng: number, recordedAt: number): LocationPoint => ({ riderId, lat, lng, recordedAt, speed: 3, heading: 0, accuracy: 5, mocked: false });
  for (let i = 0; i < count; i++) {
    // Half spread over 2.5 km, half in a tight knot 150 m around the station.
    const spread = i % 2 === 0 ? 2_500 : 150;
    const r = spread * Math.sqrt(random());
    const a = 2 * Math.PI * random();
    const lat = GANGNAM.lat + (r * Math.cos(a)) / 111_320;
    const lng = GANGNAM.lng + (r * Math.sin(a)) / (111_320 * Math.cos((GANGNAM.lat * Math.PI) / 180));
    const riderId = `nf-${String(i).padStart(3, '0')}`;
    const kind = i % 20;
    const recordedAt = kind === 3 ? now - FRESH_MS - 1_000 : kind === 4 ? now - FRESH_MS : now - Math.floor(random() * 10_000);
    await live.state.setStatus(riderId, 'available');
    await live.apply([point(riderId, lat, lng, recordedAt)]);
    indexed.push({ riderId, lat, lng });
    if (kind === 5 || kind === 6) {
      // Busy or offline, then put back in the index as a late batch would.
      const rider = await live.setStatus(riderId, kind === 5 ? 'busy' : 'offline', now);
      await live.geo.place([{ riderId, lat, lng, cell: rider!.cell, previousCell: '' }]);
    } else if (kind === 7 || kind === 8) {
      // Busy or offline the ordinary way: out of the index.
      await live.setStatus(riderId, kind === 7 ? 'busy' : 'offline', now);
      indexed.pop();
    }
  }
  return indexed;
}

/**
 * What nearby must answer, from one unsharded GEO key holding every indexed rider: the
 * `limit + SPARE_CANDIDATES` nearest (ties by id), then the available and fresh ones, at most
 * `limit`.
 */
export async function referenceNearby(redis: Redis, live: LiveLocation, refKey: string, query: NearbyQuery): Promise<NearbyRider[]> {
  const hits = (await redis.geosearch(refKey, 'FROMLONLAT', query.lng, query.lat, 'BYRADIUS', query.radiusMeters, 'm', 'ASC', 'COUNT', query.limit + SPARE_CANDIDATES, 'WITHDIST')) as Array<[string, string]>;
  const candidates = hits.map(([riderId, d]) => ({ riderId, d: Number(d) })).sort((a, b) => a.d - b.d || (a.riderId < b.riderId ? -1 : 1));
  const out: NearbyRider[] = [];
  for (const { riderId, d } of candidates) {
    const rider = await live.state.get(riderId);
    if (out.length < query.limit && rider?.status === 'available' && rider.recordedAt >= query.now - FRESH_MS) {
      out.push({ riderId, distanceMeters: Math.round(d * 10) / 10, lat: rider.lat, lng: rider.lng, recordedAt: rider.recordedAt });
    }
  }
  return out;
}

/** Query points around the station (some on cell edges and corners), radii and limits, the same on every run. */
export function nearbyQueries(now: number): NearbyQuery[] {
  const random = seededRandom(11);
  const queries: NearbyQuery[] = [];
  const radii = [150, 600, 1_000, 2_000];
  const limits = [1, 5, 20, 60];
  for (let i = 0; i < 32; i++) {
    const r = 1_500 * Math.sqrt(random());
    const a = 2 * Math.PI * random();
    queries.push({ lat: GANGNAM.lat + (r * Math.cos(a)) / 111_320, lng: GANGNAM.lng + (r * Math.sin(a)) / 88_300, radiusMeters: radii[i % 4]!, limit: limits[(i >> 2) % 4]!, now });
  }
  // A cell corner near the station (cells are 0.01° × 0.0125°), and a circle with nobody in it.
  queries.push({ lat: 37.5, lng: 127.025, radiusMeters: 1_000, limit: 20, now });
  queries.push({ lat: 37.3, lng: 127.3, radiusMeters: 500, limit: 20, now });
  return queries;
}
