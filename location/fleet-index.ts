import type { ChainableCommander, Redis } from 'ioredis';
import type { LocationPoint } from '../domain/location/point.ts';
import { isCluster } from '../runtime/redis-cluster.ts';
import type { LocationKeys } from './keys.ts';

/** Shards the fleet is spread over, so on Redis Cluster the index is not one hot slot. */
export const FLEET_SHARDS = 16;

/** Which shard holds a rider: a small string hash (FNV-1a), stable across processes. */
export function fleetShard(riderId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < riderId.length; i++) h = Math.imul(h ^ riderId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % FLEET_SHARDS;
}

/** A rider as the fleet index holds it: what the ops map draws, nothing more. */
export interface FleetEntry {
  riderId: string;
  status: string;
  lat: number;
  lng: number;
  recordedAt: number;
  heading: number | null;
}

/**
 * A rider's entry is one hash field, "recordedAt,lat,lng,heading,status", so the whole fleet is one
 * HGETALL per shard. Positions move only forward here too (batches may apply out of order), the
 * status is kept, and a rider is touched only when its position did move.
 * KEYS: per shard, its riders hash and touches sorted set (one slot: the same shard).
 * ARGV: now, then per shard (in KEYS order) its rider count and (riderId, recordedAt,
 * "recordedAt,lat,lng,heading,") per rider. On one Redis a batch's riders in every shard are one
 * call; on Redis Cluster, where a script's keys must share a slot, one call per shard.
 */
const PLACE = `
local a = 2
for k = 1, #KEYS, 2 do
  local count = tonumber(ARGV[a])
  a = a + 1
  for _ = 1, count do
    local old = redis.call('HGET', KEYS[k], ARGV[a]) or ',,,,offline'
    if tonumber(ARGV[a + 1]) > (tonumber(string.match(old, '^([^,]*)')) or -1) then
      redis.call('HSET', KEYS[k], ARGV[a], ARGV[a + 2] .. string.match(old, '([^,]*)$'))
      redis.call('ZADD', KEYS[k + 1], 'GT', ARGV[1], ARGV[a])
    end
    a = a + 3
  end
end
return 0`;

/** KEYS: riders hash, touches. ARGV: now, riderId, status. The position is kept (none yet: empty). */
const SET_STATUS = `
local old = redis.call('HGET', KEYS[1], ARGV[2]) or ',,,,'
redis.call('HSET', KEYS[1], ARGV[2], string.match(old, '^(.*,)') .. ARGV[3])
redis.call('ZADD', KEYS[2], 'GT', ARGV[1], ARGV[2])
return 0`;

/**
 * SET_STATUS for several riders in one call (one Redis; a matching batch's offered riders).
 * KEYS: per rider, its shard's riders hash and touches. ARGV: now, status, then the riders in KEYS order.
 */
const SET_STATUSES = `
for k = 1, #KEYS, 2 do
  local id = ARGV[2 + (k + 1) / 2]
  local old = redis.call('HGET', KEYS[k], id) or ',,,,'
  redis.call('HSET', KEYS[k], id, string.match(old, '^(.*,)') .. ARGV[2])
  redis.call('ZADD', KEYS[k + 1], 'GT', ARGV[1], id)
end
return 0`;

/** KEYS: riders hash, touches. ARGV: before (ms). Riders untouched since then leave both. */
const PRUNE = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[1])
for _, id in ipairs(ids) do redis.call('HDEL', KEYS[1], id) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[1])
return #ids`;

type Scripted = {
  deligoFleetPlaceMany(numberOfKeys: number, ...keysAndArgs: Array<string | number>): Promise<number>;
  deligoFleetPlace(riders: string, touches: string, ...args: Array<string | number>): Promise<number>;
  deligoFleetStatus(riders: string, touches: string, now: number, riderId: string, status: string): Promise<number>;
  deligoFleetStatuses(numberOfKeys: number, ...keysAndArgs: Array<string | number>): Promise<number>;
  deligoFleetPrune(riders: string, touches: string, before: number): Promise<number>;
};

/**
 * The fleet as the ops map reads it, kept beside each rider's live state by the same writers: per
 * shard, a hash of each rider's position and status, and a sorted set of when each rider last
 * changed (the writer's clock). The whole fleet is then 16 HGETALLs, and what changed since the
 * last read one ZRANGEBYSCORE and one HMGET per shard, instead of a keyspace SCAN and one HMGET
 * per rider. Writers add one script call per shard to a pipeline they already send.
 */
export interface FleetIndex {
  /** Queues the new positions on `pipeline` (several points of a rider: give only its newest). */
  place(pipeline: ChainableCommander, points: readonly LocationPoint[], now: number): void;
  /** Queues a rider's new status on `pipeline`. */
  setStatus(pipeline: ChainableCommander, riderId: string, status: string, now: number): void;
  /** Queues several riders' new status on `pipeline`: one script call on one Redis, one per rider on a cluster. */
  setStatuses(pipeline: ChainableCommander, riderIds: readonly string[], status: string, now: number): void;
  /** Every rider with a position. */
  readAll(): Promise<FleetEntry[]>;
  /** Riders touched at or after `since` (ms), each with when. */
  touchedSince(since: number): Promise<Array<[riderId: string, touchedAt: number]>>;
  /** These riders, those without a position left out. */
  read(riderIds: readonly string[]): Promise<FleetEntry[]>;
  /** Forgets riders not touched since `before` (their live state expires on its own). */
  prune(before: number): Promise<void>;
}

export function createFleetIndex(redis: Redis, keys: Pick<LocationKeys, 'fleet'>): FleetIndex {
  // On one Redis PLACE takes a pair of keys per shard, the count first. On a cluster each call has
  // one shard's pair, given first: that is where the cross-slot pipeline (redis-cluster.ts) routes it.
  redis.defineCommand('deligoFleetPlaceMany', { lua: PLACE });
  redis.defineCommand('deligoFleetPlace', { numberOfKeys: 2, lua: PLACE });
  const oneCall = !isCluster(redis);
  redis.defineCommand('deligoFleetStatus', { numberOfKeys: 2, lua: SET_STATUS });
  redis.defineCommand('deligoFleetStatuses', { lua: SET_STATUSES });
  redis.defineCommand('deligoFleetPrune', { numberOfKeys: 2, lua: PRUNE });
  // One hash tag per shard, so a shard's two keys share a slot and its scripts run on a cluster.
  const shards = Array.from({ length: FLEET_SHARDS }, (_, i) => ({ touches: keys.fleet(i), riders: `${keys.fleet(i)}:riders` }));
  const byShard = <T>(items: Iterable<T>, idOf: (item: T) => string) => {
    const out = new Map<number, T[]>();
    for (const item of items) {
      const shard = fleetShard(idOf(item));
      const list = out.get(shard);
      if (list) list.push(item);
      else out.set(shard, [item]);
    }
    return out;
  };
  const entry = (riderId: string, value: string | null | undefined): FleetEntry | undefined => {
    if (!value || value.startsWith(',')) return undefined; // no position yet
    const [recordedAt, lat, lng, heading, status] = value.split(',');
    return { riderId, status: status || 'offline', lat: Number(lat), lng: Number(lng), recordedAt: Number(recordedAt), heading: heading ? Number(heading) : null };
  };
  const replies = async (pipeline: ChainableCommander) =>
    ((await pipeline.exec()) ?? []).map(([err, reply]) => {
      if (err) throw err;
      return reply;
    });

  return {
    place(pipeline, points, now) {
      const calls: Array<{ keys: string[]; args: Array<string | number> }> = [];
      for (const [shard, list] of byShard(points, (p) => p.riderId)) {
        const last = calls[calls.length - 1];
        // One call on one Redis (a new one past ~1,000 riders, to keep its arguments within a JS spread).
        const call = oneCall && last && last.args.length < 3_000 ? last : (calls[calls.length] = { keys: [], args: [now] });
        call.keys.push(shards[shard]!.riders, shards[shard]!.touches);
        call.args.push(list.length);
        for (const p of list) call.args.push(p.riderId, p.recordedAt, `${p.recordedAt},${p.lat},${p.lng},${p.heading ?? ''},`);
      }
      for (const { keys, args } of calls) {
        if (oneCall) (pipeline as unknown as Scripted).deligoFleetPlaceMany(keys.length, ...keys, ...args);
        else (pipeline as unknown as Scripted).deligoFleetPlace(keys[0]!, keys[1]!, ...args);
      }
    },
    setStatus(pipeline, riderId, status, now) {
      const shard = shards[fleetShard(riderId)]!;
      (pipeline as unknown as Scripted).deligoFleetStatus(shard.riders, shard.touches, now, riderId, status);
    },
    setStatuses(pipeline, riderIds, status, now) {
      if (riderIds.length === 0) return;
      if (!oneCall || riderIds.length === 1) {
        for (const riderId of riderIds) this.setStatus(pipeline, riderId, status, now);
        return;
      }
      const keysOf = riderIds.flatMap((id) => {
        const shard = shards[fleetShard(id)]!;
        return [shard.riders, shard.touches];
      });
      (pipeline as unknown as Scripted).deligoFleetStatuses(keysOf.length, ...keysOf, now, status, ...riderIds);
    },
    async readAll() {
      const pipeline = redis.pipeline();
      for (const shard of shards) pipeline.hgetall(shard.riders);
      const out: FleetEntry[] = [];
      for (const riders of (await replies(pipeline)) as Array<Record<string, string>>) {
        for (const [id, value] of Object.entries(riders)) {
          const found = entry(id, value);
          if (found) out.push(found);
        }
      }
      return out;
    },
    async touchedSince(since) {
      const pipeline = redis.pipeline();
      for (const shard of shards) pipeline.zrangebyscore(shard.touches, Math.floor(since), '+inf', 'WITHSCORES');
      const out: Array<[string, number]> = [];
      for (const flat of (await replies(pipeline)) as string[][]) {
        for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, Number(flat[i + 1])]);
      }
      return out;
    },
    async read(riderIds) {
      const groups = [...byShard(riderIds, (id) => id)];
      if (groups.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const [shard, ids] of groups) pipeline.hmget(shards[shard]!.riders, ...ids);
      const all = (await replies(pipeline)) as Array<Array<string | null>>;
      const out: FleetEntry[] = [];
      groups.forEach(([, ids], g) => {
        ids.forEach((id, i) => {
          const found = entry(id, all[g]![i]);
          if (found) out.push(found);
        });
      });
      return out;
    },
    async prune(before) {
      const pipeline = redis.pipeline();
      for (const shard of shards) (pipeline as unknown as Scripted).deligoFleetPrune(shard.riders, shard.touches, Math.floor(before));
      await replies(pipeline);
    },
  };
}
