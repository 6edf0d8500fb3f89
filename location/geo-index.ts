import type { Redis } from 'ioredis';
import { cellId, cellsByDistance } from '../domain/location/cells.ts';
import type { LocationKeys } from './keys.ts';

export interface NearbyCandidate {
  riderId: string;
  distanceMeters: number;
}

/**
 * Nearest first; equal distances by rider id, compared as bytes (as the nearby script does), so
 * every search path orders a tie the same way.
 */
export function nearestFirst(a: NearbyCandidate, b: NearbyCandidate): number {
  return a.distanceMeters - b.distanceMeters || (a.riderId < b.riderId ? -1 : a.riderId > b.riderId ? 1 : 0);
}

/** Available riders by cell: one GEO key per ~1.1 km cell (see domain/location/cells.ts). */
export interface GeoIndex {
  /** Puts riders in their current cells and takes them out of the ones they left. */
  place(entries: Array<{ riderId: string; lat: number; lng: number; cell: string; previousCell: string }>): Promise<void>;
  remove(riderId: string, cell: string): Promise<void>;
  /**
   * The `limit` nearest members within the radius, across every cell the circle touches. Each
   * GEOSEARCH reads one key, so it works across Redis Cluster slots: one pipelined round trip for
   * the query point's own cell, and a second for the neighbours that can still hold a nearer member
   * (none, at a busy spot, when the k-th nearest lies closer than the cell's edges). Not yet
   * filtered for freshness.
   */
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
      const cells = cellsByDistance(lat, lng, radiusMeters);
      const best = new Map<string, NearbyCandidate>();
      let nearest: NearbyCandidate[] = [];
      let next = 0;
      while (next < cells.length) {
        // First the query point's own cell; then only the cells whose edge is nearer than the
        // k-th candidate found there, searched only that far (all the rest while fewer are known).
        const full = nearest.length >= limit;
        const kth = full ? nearest[limit - 1]!.distanceMeters : radiusMeters;
        const batch: string[] = [];
        const first = next === 0;
        const reachable = (edge: number) => (first ? edge === 0 : edge <= kth);
        while (next < cells.length && reachable(cells[next]!.edgeMeters)) batch.push(keys.cell(cellId(cells[next++]!.cell)));
        if (batch.length === 0) break;
        const reach = full ? Math.min(radiusMeters, kth + 0.001) : radiusMeters;
        const pipeline = redis.pipeline();
        for (const key of batch) pipeline.geosearch(key, 'FROMLONLAT', lng, lat, 'BYRADIUS', reach, 'm', 'ASC', 'COUNT', limit, 'WITHDIST');
        for (const [err, reply] of (await pipeline.exec()) ?? []) {
          if (err) throw err;
          for (const [riderId, dist] of reply as Array<[string, string]>) {
            const distanceMeters = Number(dist);
            const seen = best.get(riderId);
            // A rider caught mid-move can sit in two cells for a moment; keep the nearer entry.
            if (!seen) best.set(riderId, { riderId, distanceMeters });
            else if (distanceMeters < seen.distanceMeters) seen.distanceMeters = distanceMeters;
          }
        }
        nearest = [...best.values()].sort(nearestFirst).slice(0, limit);
      }
      return nearest;
    },
  };
}
