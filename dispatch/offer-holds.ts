import type { Redis } from 'ioredis';
import { ASKED_TTL, dispatchKeys } from './candidate-facts.ts';

/**
 * Which riders are considering an offer right now, in Redis. At a hot spot many orders look at the
 * same nearest riders at once; a claim here lets the matcher pass over riders already asked by
 * another order without a failed database insert for each. The database's unique index (one
 * pending offer per rider) stays the guarantee; a hold is only the fast path, and it lapses on
 * its own when the offer would have timed out. (Whether a rider holds one is read with the other
 * candidate facts: dispatch/candidate-facts.ts.)
 */
export interface OfferHolds {
  /**
   * Claims the first rider in `ranked` not holding an offer until `until` (epoch ms), and marks
   * them asked for `orderId`, atomically; returns the rider, or undefined.
   */
  claimFirst(orderId: string, ranked: readonly string[], now: number, until: number): Promise<string | undefined>;
  /**
   * {@link claimFirst} for several orders in one script run (concurrent matches): orders are served
   * in the given order, and a rider claimed for one is held for the others, so every order gets a
   * different rider (or undefined). One result per claim, in order.
   */
  claimEach(claims: ReadonlyArray<{ orderId: string; ranked: readonly string[] }>, now: number, until: number): Promise<Array<string | undefined>>;
  /** The rider holds no offer any more. With `orderId`: no offer was made after all, so they were not asked for it either. */
  release(riderId: string, orderId?: string): Promise<void>;
}

/** One sorted set (score: when the hold lapses), so a claim over many riders is one atomic script. */
const CLAIM_FIRST = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for i = 4, #ARGV do
  if not redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[i])
    redis.call('SADD', KEYS[2], ARGV[i])
    redis.call('EXPIRE', KEYS[2], ARGV[3])
    return ARGV[i]
  end
end
return false`;

/**
 * KEYS: the holds, then one asked set per claim. ARGV: now, until, the asked sets' TTL, then per
 * claim the number of its riders followed by them. Returns one rider per claim ('' for none).
 */
const CLAIM_EACH = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local out = {}
local a = 4
for k = 2, #KEYS do
  local n = tonumber(ARGV[a])
  local claimed = ''
  for i = a + 1, a + n do
    if not redis.call('ZSCORE', KEYS[1], ARGV[i]) then
      redis.call('ZADD', KEYS[1], ARGV[2], ARGV[i])
      redis.call('SADD', KEYS[k], ARGV[i])
      redis.call('EXPIRE', KEYS[k], ARGV[3])
      claimed = ARGV[i]
      break
    end
  end
  out[k - 1] = claimed
  a = a + n + 1
end
return out`;

export function createOfferHolds(redis: Redis, prefix: string): OfferHolds {
  const keys = dispatchKeys(prefix);
  if (!('deligoClaimFirstRider2' in redis)) redis.defineCommand('deligoClaimFirstRider2', { numberOfKeys: 2, lua: CLAIM_FIRST });
  // Without a fixed number of keys: the first argument says how many (one asked set per claim).
  if (!('deligoClaimEachRider' in redis)) redis.defineCommand('deligoClaimEachRider', { lua: CLAIM_EACH });
  const run = redis as Redis & {
    deligoClaimFirstRider2(holds: string, asked: string, ...args: Array<string | number>): Promise<string | null>;
    deligoClaimEachRider(numberOfKeys: number, ...args: Array<string | number>): Promise<string[]>;
  };
  return {
    async claimFirst(orderId, ranked, now, until) {
      if (ranked.length === 0) return undefined;
      return (await run.deligoClaimFirstRider2(keys.holds, keys.asked(orderId), now, until, ASKED_TTL, ...ranked)) ?? undefined;
    },
    async claimEach(claims, now, until) {
      const asking = claims.filter((c) => c.ranked.length > 0);
      if (asking.length === 0) return claims.map(() => undefined);
      const args = asking.flatMap((c) => [c.ranked.length, ...c.ranked]);
      const claimed = await run.deligoClaimEachRider(1 + asking.length, keys.holds, ...asking.map((c) => keys.asked(c.orderId)), now, until, ASKED_TTL, ...args);
      const byClaim = new Map(asking.map((c, k) => [c, claimed[k] || undefined]));
      return claims.map((c) => byClaim.get(c));
    },
    async release(riderId, orderId) {
      if (orderId === undefined) return void (await redis.zrem(keys.holds, riderId));
      await redis.pipeline().zrem(keys.holds, riderId).srem(keys.asked(orderId), riderId).exec();
    },
  };
}
