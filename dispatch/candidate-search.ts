import type { Redis } from 'ioredis';
import { DISTANCE_BAND_METERS } from '../domain/dispatch/ranking.ts';
import type { LocationKeys } from '../location/keys.ts';
import { nearbyKeysAndArgs, nearbyLua, scriptDistance, type NearbyQuery } from '../location/nearby-search.ts';
import type { CandidateFacts, CandidateFactStore } from './candidate-facts.ts';
import { dispatchKeys } from './candidate-facts.ts';

/** The riders a search found for an order, nearest first, with what ranking and filtering need. */
export interface Candidates {
  riders: Array<{ riderId: string; distanceMeters: number }>;
  facts: Map<string, CandidateFacts>;
  /** The search stopped early (a {@link SearchCut}): riders farther than the last may be free too. */
  cut?: boolean;
  /** How the script read the geo cells (the scripted search only): how many, and whether its bound failed and it read them again. */
  cells?: { read: number; again: boolean };
}

/**
 * The nearby script (location/nearby-search.ts: the same cells, the same `limit` nearest riders
 * available with a fresh position, the same order), which also reads each rider's facts as it finds
 * them, from the keys dispatch/candidate-facts.ts keeps: their profiles, fraud suspensions, offer
 * holds and whether this order asked them already. One round trip per search instead of two, and
 * the riders' ids travel once instead of three times. Filtering and ranking stay in the matcher.
 *
 * With a cut (`enough` > 0) it stops early: once `enough` riders found look eligible (not asked,
 * held or suspended, and within their maximum distance or with no profile cached yet), it finishes
 * the 200 m ranking band the last of them is in and checks no farther rider. Ranking goes by band
 * first (domain/dispatch/ranking.ts), so the best eligible rider is among those returned whenever
 * one of the counted riders is truly eligible; at a hot spot that is a band or two instead of the
 * `limit` (50) nearest, each of which cost the script a status and four fact reads.
 *
 * A cut search also reads the cells only as far as it expects to stop (`spare` > 0): the end of
 * the band of the (`enough` + `spare`)-th index entry found so far. When the riders within that
 * bound settle the cut, every rider nearer than its stop is there, as read with no bound, and none
 * farther matters; when they do not (too many of them asked, held or suspended), the script reads
 * the cells again with no bound, in the same run.
 *
 * Extra KEYS (after the cells): profiles, suspended, suspended-loaded, holds, this order's asked set.
 * Extra ARGV (after the cells' edges): now (ms), band (m), enough (0: no cut), spare (0: no bound).
 * Returns: loaded (0|1), cut (0|1), cells read, read again (0|1), then per rider found: id,
 * distance, profile, suspended until, held until, asked (0|1); a missing value is nil.
 */
const SEARCH_WITH_FACTS = nearbyLua(5, `local reply = { loaded, stopAt and 1 or 0, cellsRead, readAgain and 1 or 0 }
for i = 1, #out do
  local f = facts[i]
  local at = #reply
  reply[at + 1] = out[i][1]
  reply[at + 2] = out[i][2]
  reply[at + 3] = f[1]
  reply[at + 4] = f[2]
  reply[at + 5] = f[3]
  reply[at + 6] = f[4]
end
return reply`, {
  setup: `local base = ncells
local now, band, enough, spare = tonumber(ARGV[9 + ncells]), tonumber(ARGV[10 + ncells]), tonumber(ARGV[11 + ncells]), tonumber(ARGV[12 + ncells])
local loaded = redis.call('EXISTS', KEYS[base + 3])
-- Without the suspension set (the matcher rebuilds it from Postgres) nobody's eligibility is known here.
if loaded == 0 then enough = 0 end
-- The end of the 200 m ranking band a distance falls in, as the matcher ranks it (rounded to 0.1 m).
local function bandEnd(d)
  return (math.floor(math.floor(d * 10 + 0.5) / 10 / band) + 1) * band
end
-- A guess at where a cut search will stop: the end of the band of the (enough + spare)-th entry.
-- Out of riders at a hot spot the nearest free riders are kilometres out, in a ring of cells each
-- holding dozens of them: reading every cell of the ring 60 deep was most of the search.
local function bound(list, cap)
  if enough == 0 or spare == 0 or #list < enough + spare then return cap end
  return math.min(cap or math.huge, bandEnd(list[enough + spare].d))
end`,
  bounded: true,
  prelude: `-- Facts are read for a few riders at a time (four commands each time, not four a rider): all at the
-- end without a cut, every 8 riders found with one, each time deciding whether enough look eligible.
local chunk = enough > 0 and 8 or limit
local facts, dist, pending, eligible = {}, {}, {}, 0
local function judge()
  local ids = {}
  for k = 1, #pending do ids[k] = out[pending[k]][1] end
  local profiles = redis.call('HMGET', KEYS[base + 1], unpack(ids))
  local suspended = redis.call('ZMSCORE', KEYS[base + 2], unpack(ids))
  local held = redis.call('ZMSCORE', KEYS[base + 4], unpack(ids))
  local asked = redis.call('SMISMEMBER', KEYS[base + 5], unpack(ids))
  for k = 1, #pending do
    local row = pending[k]
    local profile = profiles[k]
    facts[row] = { profile, suspended[k], held[k], asked[k] }
    if enough > 0 and stopAt == nil and asked[k] == 0 and not (held[k] and tonumber(held[k]) > now) and not (suspended[k] and tonumber(suspended[k]) > now) then
      -- The distance as the matcher ranks it: rounded to 0.1 m.
      local d = math.floor(dist[row] * 10 + 0.5) / 10
      if not profile or d <= tonumber(string.match(profile, '^[^|]*')) then
        eligible = eligible + 1
        if eligible >= enough then stopAt = bandEnd(dist[row]) end
      end
    end
  end
  pending = {}
end`,
  onFound: `pending[#pending + 1] = #out
    dist[#out] = entry.d
    if #pending >= chunk then judge() end`,
  afterCheck: 'if #pending > 0 then judge() end',
  // Every rider nearer than the stop was within the bound, so the cut holds as it would unbounded.
  settled: '#out >= limit or (stopAt ~= nil and stopAt <= cap)',
  reset: 'facts, dist, pending, eligible = {}, {}, {}, 0',
});

/** Stop the search early: see SEARCH_WITH_FACTS. */
export interface SearchCut {
  /** How many riders that look eligible are enough. */
  eligible: number;
  /**
   * How many index entries beyond `eligible` bound the cells read (see SEARCH_WITH_FACTS);
   * 0 reads every cell to the search's depth. Default {@link SEARCH_SPARE}.
   */
  spare?: number;
}

/** The bound holds while no more than three of the nearest index entries turn out asked, held or suspended. */
export const SEARCH_SPARE = 3;

export type CandidateSearch = (orderId: string, query: NearbyQuery, cut?: SearchCut) => Promise<Candidates>;

/** The search with its facts in one script run: on one Redis only (the script reads keys of many slots). */
export function scriptedCandidateSearch(redis: Redis, location: LocationKeys, facts: CandidateFactStore, prefix: string): CandidateSearch {
  if (!('deligoSearchWithFacts' in redis)) redis.defineCommand('deligoSearchWithFacts', { lua: SEARCH_WITH_FACTS });
  const run = redis as Redis & { deligoSearchWithFacts(numberOfKeys: number, ...args: Array<string | number>): Promise<Array<string | number | null>> };
  const keys = dispatchKeys(prefix);
  return async (orderId, query, cut) => {
    const { cellKeys, args } = nearbyKeysAndArgs(location, query);
    const reply = await run.deligoSearchWithFacts(cellKeys.length + 5, ...cellKeys, keys.profiles, keys.suspended, keys.suspendedLoaded, keys.holds, keys.asked(orderId), ...args, query.now, DISTANCE_BAND_METERS, cut?.eligible ?? 0, cut?.spare ?? SEARCH_SPARE);
    const riders: Candidates['riders'] = [];
    const ids: string[] = [];
    const cached = { profiles: [] as Array<string | null>, suspendedUntil: [] as Array<string | null>, heldUntil: [] as Array<string | null>, loaded: reply[0] === 1 };
    const asked: boolean[] = [];
    for (let at = 4; at < reply.length; at += 6) {
      const riderId = reply[at] as string;
      ids.push(riderId);
      riders.push({ riderId, distanceMeters: scriptDistance(reply[at + 1] as string) });
      cached.profiles.push(reply[at + 2] as string | null);
      cached.suspendedUntil.push(reply[at + 3] as string | null);
      cached.heldUntil.push(reply[at + 4] as string | null);
      asked.push(reply[at + 5] === 1);
    }
    const shared = await facts.complete(ids, cached, query.now);
    return { riders, facts: new Map(ids.map((id, i) => [id, { ...shared.get(id)!, asked: asked[i]! }])), ...(reply[1] === 1 && { cut: true }), cells: { read: reply[2] as number, again: reply[3] === 1 } };
  };
}
