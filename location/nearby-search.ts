import type { Redis } from 'ioredis';
import { cellId, cellsByDistance } from '../domain/location/cells.ts';
import { isCluster } from '../runtime/redis-cluster.ts';
import type { GeoIndex, NearbyCandidate } from './geo-index.ts';
import type { LocationKeys } from './keys.ts';
import type { RiderState, RiderStatus } from './rider-state.ts';

/** A rider with no point for this long is not offered work and not shown as nearby. */
export const FRESH_MS = 30_000;

/**
 * How many more index entries than asked for a search reads before it filters out the busy and
 * stale ones. The index holds available riders (busy and offline ones are removed, stale ones
 * swept), so a few spare candidates almost always suffice.
 */
export const SPARE_CANDIDATES = 10;

export interface NearbyQuery {
  lat: number;
  lng: number;
  radiusMeters: number;
  limit: number;
  now: number;
}

export interface NearbyRider {
  riderId: string;
  /** From the GEO index, rounded to 0.1 m. */
  distanceMeters: number;
  /** The rider's latest point, as reported (the index keeps a copy rounded to about 0.6 m). */
  lat: number;
  lng: number;
  recordedAt: number;
}

/**
 * How nearby talks to Redis. Both give the same riders in the same order for the same state:
 * the `limit + SPARE_CANDIDATES` nearest index entries (ties by rider id), then those available
 * and fresh, at most `limit`.
 * - `script`: one round trip; a Lua script searches the cells nearest first, stops at the first
 *   cell whose edge lies beyond the k-th candidate found, checks each candidate's status and
 *   freshness and returns only the rows asked for. It reads keys of many slots, so it refuses to
 *   run on Redis Cluster.
 * - `pipeline`: pipelined commands of one key each, so it runs on Redis Cluster: GEOSEARCH of the own
 *   cell, then of the neighbours still in reach (see GeoIndex.search); then the state of the
 *   nearest `limit` candidates, and of the spares only if some of those were busy or stale. Two
 *   round trips in the middle of a hot spot, up to four elsewhere.
 */
export type NearbySearchMode = 'script' | 'pipeline';

/** The mode for a connection: the script on one Redis, the pipeline on Redis Cluster. */
export function nearbyModeFor(redis: Redis): NearbySearchMode {
  return isCluster(redis) ? 'pipeline' : 'script';
}

export type NearbySearch = (query: NearbyQuery) => Promise<NearbyRider[]>;

const round = (metres: number) => Math.round(metres * 10) / 10;

/**
 * Of the geo index's candidates (nearest first), the first `limit` that are available with a fresh
 * position, given each one's availability as read. For callers that read the availability alongside
 * other facts of the same riders, in one round trip (dispatch).
 */
export function availableAndFresh(candidates: readonly NearbyCandidate[], checks: ReadonlyArray<{ status: RiderStatus | null; recordedAt: number; lat: number; lng: number }>, limit: number, now: number): NearbyRider[] {
  const out: NearbyRider[] = [];
  candidates.forEach((c, i) => {
    const { status, recordedAt, lat, lng } = checks[i]!;
    if (out.length < limit && status === 'available' && recordedAt >= now - FRESH_MS) {
      out.push({ riderId: c.riderId, distanceMeters: round(c.distanceMeters), lat, lng, recordedAt });
    }
  });
  return out;
}

export function pipelinedNearby(geo: GeoIndex, state: RiderState): NearbySearch {
  return async ({ lat, lng, radiusMeters, limit, now }) => {
    const candidates = await geo.search(lat, lng, radiusMeters, limit + SPARE_CANDIDATES);
    const out: NearbyRider[] = [];
    // The nearest `limit` first; the spares only when some of those were busy or stale.
    for (let i = 0; i < candidates.length && out.length < limit; ) {
      const batch = candidates.slice(i, i === 0 ? limit : undefined);
      out.push(...availableAndFresh(batch, await state.availability(batch.map((c) => c.riderId)), limit - out.length, now));
      i += batch.length;
    }
    return out;
  };
}

/** Lua a script built on the nearby script adds: see {@link nearbyLua}. */
export interface NearbyLuaHooks {
  flags?: string;
  setup?: string;
  bounded?: boolean;
  prelude?: string;
  onFound?: string;
  afterCheck?: string;
  settled?: string;
  reset?: string;
}

/**
 * KEYS: the cells' GEO keys, nearest edge first (then, in a script built with {@link nearbyLua},
 * its `extraKeys` keys).
 * ARGV: lng, lat, radius (m), wanted candidates, limit, fresh since (ms), the rider key's text
 * before and after the id, then each cell's edge distance (m).
 * Returns up to `limit` rows {riderId, distance, lat, lng, recordedAt}.
 *
 * Once `want` candidates are known, a later cell is searched only within the k-th distance (a
 * millimetre over, as WITHDIST rounds): fewer members to scan, the same top `want`. Each cell's
 * hits arrive nearest first and are merged into the list rather than re-sorting it (Lua function
 * calls are what a Redis script spends its time on: the merge took 13% off the script's time).
 *
 * A script built on this one may add Lua, in these hooks:
 * - `setup` runs before the cells are read. It may define `bound(list, cap)`, which the gathering
 *   calls after each cell when `bounded` is set: a distance (or nil) no later cell is read beyond.
 *   That bound is a guess made from the riders found so far, so the check below must confirm it.
 * - `prelude` runs once before the riders found are checked; `onFound` after each one found (its
 *   entry is `entry`, its row `out[#out]`) and may set `stopAt`, a distance from which no rider is
 *   checked any more; `afterCheck` at the end of the check.
 * - `settled` is a Lua expression, true when the riders checked decide the search within `cap`, the
 *   bound the gathering kept to. When it is false the cells are read again with no bound, `reset`
 *   clears what the check kept, and the riders are checked again: the result is then what it would
 *   have been with no bound at all.
 * - `tail` runs at the end and returns; `cellsRead` counts the cells read (twice when read again),
 *   `readAgain` says whether they were.
 */
export const nearbyLua = (extraKeys: number, tail: string, options: NearbyLuaHooks = {}) => `#!lua flags=${options.flags ?? 'no-writes,no-cluster'}
local ncells = #KEYS - ${extraKeys}
local lng, lat, radius = ARGV[1], ARGV[2], tonumber(ARGV[3])
local want, limit, since = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local before, after = ARGV[7], ARGV[8]
-- Ties by id byte by byte: Lua's < on strings follows the server's collation locale.
local function lower(x, y)
  for i = 1, math.min(#x, #y) do
    local p, q = string.byte(x, i), string.byte(y, i)
    if p ~= q then return p < q end
  end
  return #x < #y
end
${options.setup ?? ''}
-- The \`want\` nearest index entries, nearest first; with \`bounded\`, only those within the bound
-- \`bound\` sets as the cells are read. Also returns that bound and how many cells were read.
local function gather(bounded)
  local list, seen, cap, read = {}, {}, nil, 0
  for i = 1, ncells do
    local reach, edge = radius, tonumber(ARGV[8 + i])
    if cap then
      if edge > cap then break end
      reach = math.min(reach, cap + 0.001)
    end
    if #list >= want then
      local kth = list[want].d
      if edge > kth then break end
      reach = math.min(reach, kth + 0.001)
    end
    -- A cell's hits come nearest first: merge them into the list instead of sorting it again.
    read = i
    local hits = redis.call('GEOSEARCH', KEYS[i], 'FROMLONLAT', lng, lat, 'BYRADIUS', reach, 'm', 'ASC', 'COUNT', want, 'WITHDIST')
    local fresh = {}
    for _, hit in ipairs(hits) do
      local id, d = hit[1], tonumber(hit[2])
      local old = seen[id]
      -- A rider caught mid-move can sit in two cells for a moment: keep the nearer entry.
      if old == nil or d < old.d then
        if old then old.gone = true end
        local e = { id = id, d = d, text = hit[2] }
        local m = #fresh
        -- Equal distances come in Redis's order: put them in id order.
        while m >= 1 and fresh[m].d == d and lower(id, fresh[m].id) do
          fresh[m + 1] = fresh[m]
          m = m - 1
        end
        fresh[m + 1] = e
      end
    end
    local merged, a, b = {}, 1, 1
    seen = {}
    while #merged < want do
      local x, y = list[a], fresh[b]
      if x and x.gone then
        a = a + 1
      elseif x == nil and y == nil then
        break
      elseif x == nil or (y ~= nil and (y.d < x.d or (y.d == x.d and lower(y.id, x.id)))) then
        merged[#merged + 1] = y
        seen[y.id] = y
        b = b + 1
      else
        merged[#merged + 1] = x
        seen[x.id] = x
        a = a + 1
      end
    end
    list = merged
    if bounded then cap = bound(list, cap) end
  end
  return list, cap, read
end
local list, cap, cellsRead = gather(${options.bounded ? 'true' : 'false'})
local readAgain = false
local out = {}
-- A script built with an \`onFound\` step may set stopAt: no rider that far or farther is checked.
local stopAt = nil
${options.prelude ?? ''}
local function check()
  for _, entry in ipairs(list) do
    if #out >= limit or (stopAt and entry.d >= stopAt) then break end
    local h = redis.call('HMGET', before .. entry.id .. after, 'status', 'recordedAt', 'lat', 'lng')
    if h[1] == 'available' and h[3] and h[4] and tonumber(h[2] or '0') >= since then
      out[#out + 1] = { entry.id, entry.text, h[3], h[4], h[2] }
      ${options.onFound ?? ''}
    end
  end
  ${options.afterCheck ?? ''}
end
check()
if cap and not (${options.settled ?? 'true'}) then
  local whole, _, read = gather(false)
  list, cellsRead, readAgain = whole, cellsRead + read, true
  out, stopAt = {}, nil
  ${options.reset ?? ''}
  check()
end
${tail}`;

const NEARBY = nearbyLua(0, 'return out');

/** The nearby script's keys and arguments after its key count (see NEARBY), the cells' keys first. */
export function nearbyKeysAndArgs(keys: LocationKeys, { lat, lng, radiusMeters, limit, now }: NearbyQuery): { cellKeys: string[]; args: Array<string | number> } {
  const cells = cellsByDistance(lat, lng, radiusMeters);
  const [before, after] = keys.riderKeyAround;
  const args: Array<string | number> = [lng, lat, radiusMeters, limit + SPARE_CANDIDATES, limit, now - FRESH_MS, before, after];
  for (const { edgeMeters } of cells) args.push(edgeMeters);
  return { cellKeys: cells.map(({ cell }) => keys.cell(cellId(cell))), args };
}

/** A distance as the script returns it (WITHDIST's text), in metres rounded to 0.1 m as every search gives it. */
export const scriptDistance = (text: string) => round(Number(text));

type Row = [string, string, string, string, string];

export function scriptedNearby(redis: Redis, keys: LocationKeys): NearbySearch {
  if (isCluster(redis)) throw new Error('the nearby script reads keys of many slots: use the pipeline mode on Redis Cluster');
  redis.defineCommand('deligoNearby', { lua: NEARBY });
  const run = redis as Redis & { deligoNearby(numberOfKeys: number, ...args: Array<string | number>): Promise<Row[]> };
  return async (query) => {
    const { cellKeys, args } = nearbyKeysAndArgs(keys, query);
    const rows = await run.deligoNearby(cellKeys.length, ...cellKeys, ...args);
    return rows.map(([riderId, distance, lat, lng, recordedAt]) => ({ riderId, distanceMeters: scriptDistance(distance), lat: Number(lat), lng: Number(lng), recordedAt: Number(recordedAt) }));
  };
}
