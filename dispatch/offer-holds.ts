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

export function createOfferHolds(redis: Redis, prefix: string): OfferHolds {
  const keys = dispatchKeys(prefix);
  if (!('deligoClaimFirstRider2' in redis)) redis.defineCommand('deligoClaimFirstRider2', { numberOfKeys: 2, lua: CLAIM_FIRST });
  const run = redis as Redis & { deligoClaimFirstRider2(holds: string, asked: string, ...args: Array<string | number>): Promise<string | null> };
  return {
    async claimFirst(orderId, ranked, now, until) {
      if (ranked.length === 0) return undefined;
      return (await run.deligoClaimFirstRider2(keys.holds, keys.asked(orderId), now, until, ASKED_TTL, ...ranked)) ?? undefined;
    },
    async release(riderId, orderId) {
      if (orderId === undefined) return void (await redis.zrem(keys.holds, riderId));
      await redis.pipeline().zrem(keys.holds, riderId).srem(keys.asked(orderId), riderId).exec();
    },
  };
}
