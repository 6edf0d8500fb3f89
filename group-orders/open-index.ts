import type { Redis } from 'ioredis';
import { CATEGORIES } from '../domain/catalogue/catalogue.ts';
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
 * one GEO set of every open group, one GEO set per restaurant category, and one hash of cards.
 * All keys of a cell share a hash tag, so on Redis Cluster they sit in one slot, and the 100,000
 * groups of a busy city spread over hundreds of small keys. A 300 m search touches at most four
 * cells and, thanks to the per-category sets, asks each for only its `limit` nearest: a hot spot
 * with hundreds of groups in range costs no more than a quiet street. Cards are read for the
 * winners only.
 */
export interface OpenGroupIndex {
  add(card: GroupCard): Promise<void>;
  remove(group: { id: string; lat: number; lng: number }): Promise<void>;
  /** Nearest first; groups past their expiry are left out even before their expiry job runs. */
  nearby(query: { lat: number; lng: number; radiusMeters: number; category?: string; limit: number; now: number }): Promise<NearbyGroup[]>;
}

export function createOpenGroupIndex(redis: Redis, prefix: string): OpenGroupIndex {
  const geoKey = (cell: string, category = 'all') => `${prefix}:group-open:{go:${cell}}:geo:${category}`;
  const cardsKey = (cell: string) => `${prefix}:group-open:{go:${cell}}:cards`;
  const cellFor = (lat: number, lng: number) => cellId(cellOf(lat, lng));
  return {
    async add(card) {
      const cell = cellFor(card.lat, card.lng);
      await redis
        .multi()
        .geoadd(geoKey(cell), card.lng, card.lat, card.id)
        .geoadd(geoKey(cell, card.category), card.lng, card.lat, card.id)
        .hset(cardsKey(cell), card.id, JSON.stringify(card))
        .exec();
    },
    async remove(group) {
      const cell = cellFor(group.lat, group.lng);
      const tx = redis.multi().zrem(geoKey(cell), group.id);
      // The category is on the card, which may already be gone: remove from every category's set.
      for (const category of CATEGORIES) tx.zrem(geoKey(cell, category), group.id);
      await tx.hdel(cardsKey(cell), group.id).exec();
    },
    async nearby(query) {
      const cells = cellsCovering(query.lat, query.lng, query.radiusMeters).map(cellId);
      const search = redis.pipeline();
      for (const cell of cells) {
        search.geosearch(geoKey(cell, query.category), 'FROMLONLAT', query.lng, query.lat, 'BYRADIUS', query.radiusMeters, 'm', 'ASC', 'COUNT', query.limit, 'WITHDIST');
      }
      const hits: Array<{ id: string; cell: string; distanceMeters: number }> = [];
      for (const [i, [err, reply]] of ((await search.exec()) ?? []).entries()) {
        if (err) throw err;
        for (const [id, dist] of reply as Array<[string, string]>) hits.push({ id, cell: cells[i]!, distanceMeters: Number(dist) });
      }
      const nearest = hits.sort((a, b) => a.distanceMeters - b.distanceMeters || a.id.localeCompare(b.id)).slice(0, query.limit);
      if (nearest.length === 0) return [];
      const byCell = new Map<string, typeof nearest>();
      for (const hit of nearest) byCell.set(hit.cell, [...(byCell.get(hit.cell) ?? []), hit]);
      const reads = redis.pipeline();
      for (const [cell, list] of byCell) reads.hmget(cardsKey(cell), ...list.map((h) => h.id));
      const cards = new Map<string, string | null>();
      for (const [i, [err, reply]] of ((await reads.exec()) ?? []).entries()) {
        if (err) throw err;
        const list = [...byCell.values()][i]!;
        (reply as Array<string | null>).forEach((text, j) => cards.set(list[j]!.id, text));
      }
      const groups: NearbyGroup[] = [];
      for (const hit of nearest) {
        const text = cards.get(hit.id);
        if (!text) continue;
        const card = JSON.parse(text) as GroupCard;
        if (card.expiresAt > query.now) groups.push({ ...card, distanceMeters: hit.distanceMeters });
      }
      return groups;
    },
  };
}
