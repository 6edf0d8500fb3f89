import type { Redis } from 'ioredis';
import type { LocationKeys } from '../location/keys.ts';
import { nearbyKeysAndArgs, nearbyLua, scriptDistance, type NearbyQuery } from '../location/nearby-search.ts';
import type { CandidateFacts, CandidateFactStore } from './candidate-facts.ts';
import { dispatchKeys } from './candidate-facts.ts';

/** The riders a search found for an order, nearest first, with what ranking and filtering need. */
export interface Candidates {
  riders: Array<{ riderId: string; distanceMeters: number }>;
  facts: Map<string, CandidateFacts>;
}

/**
 * The nearby script (location/nearby-search.ts: the same cells, the same `limit` nearest riders
 * available with a fresh position, the same order), followed in the same run by the facts of the
 * riders it found, read from the keys dispatch/candidate-facts.ts keeps: their profiles, fraud
 * suspensions, offer holds and whether this order asked them already. One round trip per search
 * instead of two, and the riders' ids travel once instead of three times. It reads and decides
 * nothing else: filtering and ranking stay in the matcher.
 *
 * Extra KEYS (after the cells): profiles, suspended, suspended-loaded, holds, this order's asked set.
 * Returns: loaded (0|1), then per rider found: id, distance, profile, suspended until, held until,
 * asked (0|1); a missing value is nil.
 */
const SEARCH_WITH_FACTS = nearbyLua(
  5,
  `local base = ncells
local loaded = redis.call('EXISTS', KEYS[base + 3])
local reply = { loaded }
if #out == 0 then return reply end
local ids = {}
for i = 1, #out do ids[i] = out[i][1] end
local profiles = redis.call('HMGET', KEYS[base + 1], unpack(ids))
local suspended = redis.call('ZMSCORE', KEYS[base + 2], unpack(ids))
local held = redis.call('ZMSCORE', KEYS[base + 4], unpack(ids))
local asked = redis.call('SMISMEMBER', KEYS[base + 5], unpack(ids))
for i = 1, #out do
  local at = #reply
  reply[at + 1] = ids[i]
  reply[at + 2] = out[i][2]
  reply[at + 3] = profiles[i]
  reply[at + 4] = suspended[i]
  reply[at + 5] = held[i]
  reply[at + 6] = asked[i]
end
return reply`,
);

export type CandidateSearch = (orderId: string, query: NearbyQuery) => Promise<Candidates>;

/** The search with its facts in one script run: on one Redis only (the script reads keys of many slots). */
export function scriptedCandidateSearch(redis: Redis, location: LocationKeys, facts: CandidateFactStore, prefix: string): CandidateSearch {
  if (!('deligoSearchWithFacts' in redis)) redis.defineCommand('deligoSearchWithFacts', { lua: SEARCH_WITH_FACTS });
  const run = redis as Redis & { deligoSearchWithFacts(numberOfKeys: number, ...args: Array<string | number>): Promise<Array<string | number | null>> };
  const keys = dispatchKeys(prefix);
  return async (orderId, query) => {
    const { cellKeys, args } = nearbyKeysAndArgs(location, query);
    const reply = await run.deligoSearchWithFacts(cellKeys.length + 5, ...cellKeys, keys.profiles, keys.suspended, keys.suspendedLoaded, keys.holds, keys.asked(orderId), ...args);
    const riders: Candidates['riders'] = [];
    const ids: string[] = [];
    const cached = { profiles: [] as Array<string | null>, suspendedUntil: [] as Array<string | null>, heldUntil: [] as Array<string | null>, loaded: reply[0] === 1 };
    const asked: boolean[] = [];
    for (let at = 1; at < reply.length; at += 6) {
      const riderId = reply[at] as string;
      ids.push(riderId);
      riders.push({ riderId, distanceMeters: scriptDistance(reply[at + 1] as string) });
      cached.profiles.push(reply[at + 2] as string | null);
      cached.suspendedUntil.push(reply[at + 3] as string | null);
      cached.heldUntil.push(reply[at + 4] as string | null);
      asked.push(reply[at + 5] === 1);
    }
    const shared = await facts.complete(ids, cached, query.now);
    return { riders, facts: new Map(ids.map((id, i) => [id, { ...shared.get(id)!, asked: asked[i]! }])) };
  };
}
