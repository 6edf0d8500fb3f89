import type { Redis } from 'ioredis';
import { cellId, cellsCovering } from '../domain/location/cells.ts';
import type { LocationKeys } from './keys.ts';

export interface NearbyCandidate {
  riderId: string;
  distanceMeters: number;
}

/** Available riders by cell: one GEO key per ~1.1 km cell (see domain/location/cells.ts). */
export interface GeoIndex {
  /** Puts riders in their current cells and takes them out of the ones they left. */
  place(entries: Array<{ riderId: string; lat: number; lng: number; cell: string; previousCell: string }>): Promise<void>;
  remove(riderId: string, cell: string): Promise<void>;
  /** Nearest members within the radius, across every cell the circle touches. Not yet filtered for freshness. */
  search(lat: number, lng: number, radiusMeters: number, limit: number): Promise<NearbyCandidate[]>;
}

export function createGeoIndex(redis: Redis, keys: LocationKeys): GeoIndex {
  return {
    async place(entries) {
      if (entries.length === 0) return;
      const pipeline = redis.pipeline();
      for (const e of entries) {
        pipeline.geoadd(keys.cell(e.cell), e.lng, e.lat, e.riderId);
        if (e.previousCell && e.previousCell !== e.cell) pipeline.zrem(keys.cell(e.previousCell), e.riderId);
      }
      await pipeline.exec();
    },
    async remove(riderId, cell) {
      if (cell) await redis.zrem(keys.cell(cell), riderId);
    },
    async search(lat, lng, radiusMeters, limit) {
      const cells = cellsCovering(lat, lng, radiusMeters);
      const pipeline = redis.pipeline();
      for (const cell of cells) {
        pipeline.geosearch(keys.cell(cellId(cell)), 'FROMLONLAT', lng, lat, 'BYRADIUS', radiusMeters, 'm', 'ASC', 'COUNT', limit, 'WITHDIST');
      }
      const results = (await pipeline.exec()) ?? [];
      const best = new Map<string, number>();
      for (const [err, reply] of results) {
        if (err) throw err;
        for (const [member, dist] of reply as Array<[string, string]>) {
          const d = Number(dist);
          if (!(best.get(member)! <= d)) best.set(member, d);
        }
      }
      return [...best].map(([riderId, distanceMeters]) => ({ riderId, distanceMeters })).sort((a, b) => a.distanceMeters - b.distanceMeters);
    },
  };
}
