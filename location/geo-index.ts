import type { Redis } from 'ioredis';
import { cellId, cellsCovering } from '../domain/location/cells.ts';
import type { LocationKeys } from './keys.ts';

export interface NearbyCandidate {
  riderId: string;
  distanceMeters: number;
  lat: number;
  lng: number;
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
        pipeline.geosearch(keys.cell(cellId(cell)), 'FROMLONLAT', lng, lat, 'BYRADIUS', radiusMeters, 'm', 'ASC', 'COUNT', limit, 'WITHDIST', 'WITHCOORD');
      }
      const results = (await pipeline.exec()) ?? [];
      const best = new Map<string, NearbyCandidate>();
      for (const [err, reply] of results) {
        if (err) throw err;
        for (const [riderId, dist, [lngText, latText]] of reply as Array<[string, string, [string, string]]>) {
          const distanceMeters = Number(dist);
          const seen = best.get(riderId);
          // A rider caught mid-move can sit in two cells for a moment; keep the nearer entry.
          if (!seen || distanceMeters < seen.distanceMeters) best.set(riderId, { riderId, distanceMeters, lat: Number(latText), lng: Number(lngText) });
        }
      }
      return [...best.values()].sort((a, b) => a.distanceMeters - b.distanceMeters).slice(0, limit);
    },
  };
}
