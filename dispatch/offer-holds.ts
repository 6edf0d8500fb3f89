import type { Redis } from 'ioredis';

/**
 * Which riders are considering an offer right now, in Redis. At a hot spot many orders look at the
 * same nearest riders at once; a claim here lets the matcher pass over riders already asked by
 * another order without a failed database insert for each. The database's unique index (one
 * pending offer per rider) stays the guarantee; a hold is only the fast path, and it lapses on
 * its own when the offer would have timed out.
 */
export interface OfferHolds {
  /** Of `riderIds`, those holding an offer now. */
  held(riderIds: readonly string[], now: number): Promise<Set<string>>;
  /** Claims the first rider in `ranked` not holding an offer until `until` (epoch ms); returns it, or undefined. */
  claimFirst(ranked: readonly string[], now: number, until: number): Promise<string | undefined>;
  release(riderId: string): Promise<void>;
}

/** One sorted set (score: when the hold lapses), so a claim over many riders is one atomic script. */
const CLAIM_FIRST = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for i = 3, #ARGV do
  if not redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[i])
    return ARGV[i]
  end
end
return false`;

export function createOfferHolds(redis: Redis, prefix: string): OfferHolds {
  const key = `${prefix}:offer-holds:{dispatch}`;
  if (!('deligoClaimFirstRider' in redis)) redis.defineCommand('deligoClaimFirstRider', { numberOfKeys: 1, lua: CLAIM_FIRST });
  const run = redis as Redis & { deligoClaimFirstRider(key: string, ...args: Array<string | number>): Promise<string | null> };
  return {
    async held(riderIds, now) {
      if (riderIds.length === 0) return new Set();
      const scores = await redis.zmscore(key, ...riderIds);
      return new Set(riderIds.filter((_, i) => scores[i] !== null && Number(scores[i]) > now));
    },
    async claimFirst(ranked, now, until) {
      if (ranked.length === 0) return undefined;
      return (await run.deligoClaimFirstRider(key, now, until, ...ranked)) ?? undefined;
    },
    async release(riderId) {
      await redis.zrem(key, riderId);
    },
  };
}
