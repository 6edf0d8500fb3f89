import type { ChainableCommander, Redis } from 'ioredis';
import type { LocationKeys } from './keys.ts';

/** Sorted sets the fleet is spread over, so on Redis Cluster the index is not one hot slot. */
export const FLEET_SHARDS = 16;

/** Which shard holds a rider: a small string hash (FNV-1a), stable across processes. */
export function fleetShard(riderId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < riderId.length; i++) h = Math.imul(h ^ riderId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % FLEET_SHARDS;
}

/**
 * Every rider whose live state changed recently, with when (ms, the writer's clock): sorted sets
 * `fleet:{0..15}`, member the rider id, score the time of the last position or status change.
 * The ops map lists the fleet from here instead of scanning the keyspace, and after its first
 * read fetches only the riders touched since. Writers add one ZADD to a pipeline they already
 * send; GT keeps the score from going back when two writers race.
 */
export interface FleetIndex {
  /** Queues the touch of each rider on `pipeline`; costs no round trip of its own. */
  touch(pipeline: ChainableCommander, riderIds: Iterable<string>, now: number): void;
  /** Riders touched at or after `since` (ms). */
  touchedSince(since: number): Promise<string[]>;
  /** Forgets riders not touched since `before` (their live state expires on its own). */
  prune(before: number): Promise<void>;
}

export function createFleetIndex(redis: Redis, keys: Pick<LocationKeys, 'fleet'>): FleetIndex {
  const shards = Array.from({ length: FLEET_SHARDS }, (_, i) => keys.fleet(i));
  return {
    touch(pipeline, riderIds, now) {
      const byShard = new Map<number, Array<number | string>>();
      for (const id of riderIds) {
        const shard = fleetShard(id);
        let args = byShard.get(shard);
        if (!args) byShard.set(shard, (args = []));
        args.push(now, id);
      }
      for (const [shard, args] of byShard) pipeline.zadd(shards[shard]!, 'GT', ...args);
    },
    async touchedSince(since) {
      const pipeline = redis.pipeline();
      for (const key of shards) pipeline.zrangebyscore(key, Math.floor(since), '+inf');
      const out: string[] = [];
      for (const [err, ids] of (await pipeline.exec()) ?? []) {
        if (err) throw err;
        for (const id of ids as string[]) out.push(id);
      }
      return out;
    },
    async prune(before) {
      const pipeline = redis.pipeline();
      for (const key of shards) pipeline.zremrangebyscore(key, '-inf', `(${Math.floor(before)}`);
      await pipeline.exec();
    },
  };
}
