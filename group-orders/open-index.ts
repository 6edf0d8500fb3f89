import type { Redis } from 'ioredis';
import { cellId, cellOf, cellsCovering } from '../domain/location/cells.ts';

/** What the nearby list shows of an open group, kept beside its position so a listing never reads Postgres. */
export interface GroupCard {
  id: string;
  restaurantId: string;
  restaurantName: string;
  category: string;
  mode: 'SPLIT' | 'EACH';
  deliveryTip: number;
  /** SPLIT: the shared menu's price; EACH: the creator's own menu. */
  menuTotal: number;
  address: string;
  lat: number;
  lng: number;
  /** Epoch ms. */
  expiresAt: number;
}

export interface NearbyGroup extends GroupCard {
  distanceMeters: number;
}

/**
 * Open group orders by cell, in Redis: per ~1.1 km cell (the riders' cells, domain/location/cells.ts)
 * one GEO set of group ids and one hash of their cards. Both keys of a cell share a hash tag, so
 * on Redis Cluster they sit in one slot, and the 100,000 groups of a busy city spread over
 * hundreds of small keys. A 300 m search touches at most four cells.
 */
export interface OpenGroupIndex {
  add(card: GroupCard): Promise<void>;
  remove(group: { id: string; lat: number; lng: number }): Promise<void>;
  /** Nearest first; groups past their expiry are left out even before their expiry job runs. */
  nearby(query: { lat: number; lng: number; radiusMeters: number; category?: string; limit: number; now: number }): Promise<NearbyGroup[]>;
}

/** The most members read from one cell per search: bounds the work of a pathological hot spot. */
const PER_CELL = 1_000;

export function createOpenGroupIndex(redis: Redis, prefix: string): OpenGroupIndex {
  const geoKey = (cell: string) => `${prefix}:group-open:{go:${cell}}:geo`;
  const cardsKey = (cell: string) => `${prefix}:group-open:{go:${cell}}:cards`;
  const cellFor = (lat: number, lng: number) => cellId(cellOf(lat, lng));
  return {
    async add(card) {
      const cell = cellFor(card.lat, card.lng);
      await redis.multi().geoadd(geoKey(cell), card.lng, card.lat, card.id).hset(cardsKey(cell), card.id, JSON.stringify(card)).exec();
    },
    async remove(group) {
      const cell = cellFor(group.lat, group.lng);
      await redis.multi().zrem(geoKey(cell), group.id).hdel(cardsKey(cell), group.id).exec();
    },
    async nearby(query) {
      const cells = cellsCovering(query.lat, query.lng, query.radiusMeters).map(cellId);
      const search = redis.pipeline();
      for (const cell of cells) {
        search.geosearch(geoKey(cell), 'FROMLONLAT', query.lng, query.lat, 'BYRADIUS', query.radiusMeters, 'm', 'ASC', 'COUNT', PER_CELL, 'WITHDIST');
      }
      const found = ((await search.exec()) ?? []).map(([err, reply]) => {
        if (err) throw err;
        return reply as Array<[string, string]>;
      });
      const reads = redis.pipeline();
      for (const [i, cell] of cells.entries()) if (found[i]!.length > 0) reads.hmget(cardsKey(cell), ...found[i]!.map(([id]) => id));
      const cardReplies = ((await reads.exec()) ?? []).map(([err, reply]) => {
        if (err) throw err;
        return reply as Array<string | null>;
      });
      const groups: NearbyGroup[] = [];
      let r = 0;
      for (const hits of found) {
        if (hits.length === 0) continue;
        const cards = cardReplies[r++]!;
        for (const [j, [, dist]] of hits.entries()) {
          const text = cards[j];
          if (!text) continue;
          const card = JSON.parse(text) as GroupCard;
          if (card.expiresAt <= query.now) continue;
          if (query.category && card.category !== query.category) continue;
          groups.push({ ...card, distanceMeters: Number(dist) });
        }
      }
      return groups.sort((a, b) => a.distanceMeters - b.distanceMeters || a.id.localeCompare(b.id)).slice(0, query.limit);
    },
  };
}
