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

/**
 * Open group orders by cell, in Redis: per ~1.1 km cell (the riders' cells, domain/location/cells.ts)
 * one GEO set of every open group, one GEO set per restaurant category, and one hash of list
 * entries. All keys of a cell share a hash tag, so on Redis Cluster they sit in one slot, and the
 * 100,000 groups of a busy city spread over hundreds of small keys. A 300 m search touches at most
 * four cells and, thanks to the per-category sets, asks each for only its `limit` nearest: a hot
 * spot with hundreds of groups in range costs no more than a quiet street.
 *
 * The list is read on every app refresh, so each group's entry is kept as the very JSON the list
 * sends (`listEntry`), and one script per cell (its keys share a slot) searches the GEO set and
 * reads the winners' entries: one round trip, nothing parsed or re-serialized on the way out.
 */
export interface OpenGroupIndex {
  add(card: GroupCard): Promise<void>;
  remove(group: { id: string; lat: number; lng: number }): Promise<void>;
  /**
   * The groups `GET /v1/group-orders` lists, nearest first, each as its serialized JSON object
   * (see `listEntry`). Groups past their expiry are left out even before their expiry job runs.
   */
  nearbyJson(query: NearbyQuery): Promise<string[]>;
}

export interface NearbyQuery {
  lat: number;
  lng: number;
  radiusMeters: number;
  category?: string;
  limit: number;
  now: number;
}

/**
 * KEYS[1] a cell's GEO set, KEYS[2] its entries. ARGV: lng, lat, radius (m), limit. Returns one
 * string: id, distance and entry on a line each for the nearest `limit` members that still have
 * an entry. One bulk reply, not three per member: the client then decodes one string per cell
 * instead of up to 150 (ids are `grp_` and hex, entries are JSON: neither holds a raw newline).
 */
const SEARCH_CELL = `
local hits = redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', ARGV[1], ARGV[2], 'BYRADIUS', ARGV[3], 'm', 'ASC', 'COUNT', ARGV[4], 'WITHDIST')
if #hits == 0 then return '' end
local ids = {}
for i, hit in ipairs(hits) do ids[i] = hit[1] end
local entries = redis.call('HMGET', KEYS[2], unpack(ids))
local out = {}
for i, hit in ipairs(hits) do
  if entries[i] then
    out[#out + 1] = hit[1]
    out[#out + 1] = hit[2]
    out[#out + 1] = entries[i]
  end
end
return table.concat(out, '\\n')`;

/**
 * A group as `GET /v1/group-orders` lists it, stored as `<expiresAt ms>|<JSON up to the distance>`:
 * the list appends the distance and the expiry, and filters on the expiry without parsing.
 */
export function listEntry(card: GroupCard): string {
  const head = JSON.stringify({
    id: card.id,
    restaurant: { id: card.restaurantId, name: card.restaurantName, category: card.category },
    mode: card.mode,
    menuTotal: card.menuTotal,
    deliveryTip: card.deliveryTip,
    address: card.address,
    // Placeholder, cut off below: the entry ends where the distance goes.
    distanceMeters: 0,
  });
  return `${card.expiresAt}|${head.slice(0, -2)}`;
}

type SearchCommand = (geoKey: string, entriesKey: string, lng: number, lat: number, radius: number, limit: number) => Promise<unknown>;

export function createOpenGroupIndex(redis: Redis, prefix: string): OpenGroupIndex {
  const geoKey = (cell: string, category = 'all') => `${prefix}:group-open:{go:${cell}}:geo:${category}`;
  const cardsKey = (cell: string) => `${prefix}:group-open:{go:${cell}}:cards`;
  const cellFor = (lat: number, lng: number) => cellId(cellOf(lat, lng));
  redis.defineCommand('deligoGroupSearchCell', { numberOfKeys: 2, lua: SEARCH_CELL });

  /** The nearest live entries: [id, distance, stored entry], nearest first (ties by id). */
  const search = async (query: NearbyQuery) => {
    const cells = cellsCovering(query.lat, query.lng, query.radiusMeters).map(cellId);
    const pipeline = redis.pipeline();
    for (const cell of cells) {
      (pipeline as unknown as { deligoGroupSearchCell: SearchCommand }).deligoGroupSearchCell(geoKey(cell, query.category), cardsKey(cell), query.lng, query.lat, query.radiusMeters, query.limit);
    }
    const hits: Array<{ id: string; distanceMeters: number; entry: string; expiresAt: number }> = [];
    for (const [err, reply] of (await pipeline.exec()) ?? []) {
      if (err) throw err;
      if (!reply) continue;
      const lines = (reply as string).split('\n');
      for (let i = 0; i + 2 < lines.length; i += 3) {
        let entry = lines[i + 2]!;
        // Entries written before they were kept serialized are card JSON.
        if (entry.startsWith('{')) entry = listEntry(JSON.parse(entry) as GroupCard);
        const bar = entry.indexOf('|');
        const expiresAt = Number(entry.slice(0, bar));
        if (expiresAt > query.now) hits.push({ id: lines[i]!, distanceMeters: Number(lines[i + 1]), entry: entry.slice(bar + 1), expiresAt });
      }
    }
    return hits.sort((a, b) => a.distanceMeters - b.distanceMeters || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, query.limit);
  };
  const toJson = (hit: { distanceMeters: number; entry: string; expiresAt: number }) =>
    `${hit.entry}${Math.round(hit.distanceMeters)},"expiresAt":"${new Date(hit.expiresAt).toISOString()}"}`;

  return {
    async add(card) {
      const cell = cellFor(card.lat, card.lng);
      await redis
        .multi()
        .geoadd(geoKey(cell), card.lng, card.lat, card.id)
        .geoadd(geoKey(cell, card.category), card.lng, card.lat, card.id)
        .hset(cardsKey(cell), card.id, listEntry(card))
        .exec();
    },
    async remove(group) {
      const cell = cellFor(group.lat, group.lng);
      const tx = redis.multi().zrem(geoKey(cell), group.id);
      // The category is in the entry, which may already be gone: remove from every category's set.
      for (const category of CATEGORIES) tx.zrem(geoKey(cell, category), group.id);
      await tx.hdel(cardsKey(cell), group.id).exec();
    },
    async nearbyJson(query) {
      return (await search(query)).map(toJson);
    },
  };
}
