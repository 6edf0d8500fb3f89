import type { Redis } from 'ioredis';
import type { LocationPoint } from '../domain/location/point.ts';
import { isCluster } from '../runtime/redis-cluster.ts';
import { fromTuple, toTuple, type PointTuple } from './point-codec.ts';

/** How far back the fraud rules look (they need ≥ 60 s and ≥ 3 fixes). */
const WINDOW_MS = 5 * 60_000;

/**
 * Each rider's last few minutes of points, in a sorted set by recordedAt: what the fraud rules
 * compare a new batch with.
 *
 * Points are added before the window is read. Of two workers handling batches of one rider at
 * once, the one that reads last therefore sees both batches, so every pair of neighbouring points
 * is judged by at least one of them; findings are stored under a unique key, so judging twice is
 * harmless. A retried batch finds its own points already there and leaves them out of `previous`,
 * so its findings come back too.
 */
export interface RecentTrack {
  /** Adds the batch's points and returns, per rider, the other known points around them. */
  addAndRead(byRider: Map<string, LocationPoint[]>): Promise<Map<string, LocationPoint[]>>;
}

/**
 * The fixes before a batch that the rules can use: the speed check needs the one just before, the
 * frozen check the last `frozenRepeats` (3 by default), the backwards check the newest. Reading
 * these few instead of the whole window keeps a rider's every batch from parsing minutes of fixes.
 */
const BEFORE = 5;

/**
 * Riders' batches in one command, each on its rider's key: add the points, trim what is two
 * windows old, and read the last BEFORE fixes older than the batch (within the window) and every
 * fix from the batch's oldest on. On one Redis a batch's riders are one call; on Redis Cluster,
 * where a script's keys must share a slot, one call per rider.
 *
 * KEYS: riders' tracks. ARGV: window ms, BEFORE, then per rider (in KEYS order) newest, oldest,
 * the number of points n, and n score, member pairs. Returns per rider the members read.
 */
const ADD_AND_READ = `
local window = tonumber(ARGV[1])
local out = {}
local a = 3
for k = 1, #KEYS do
  local key = KEYS[k]
  local newest = tonumber(ARGV[a])
  local oldest = tonumber(ARGV[a + 1])
  local n = tonumber(ARGV[a + 2])
  redis.call('ZADD', key, unpack(ARGV, a + 3, a + 2 + 2 * n))
  redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%d', newest - 2 * window))
  local got = redis.call('ZRANGEBYSCORE', key, ARGV[a + 1], '+inf')
  local before = redis.call('ZREVRANGEBYSCORE', key, '(' .. ARGV[a + 1], string.format('%d', oldest - window), 'LIMIT', 0, ARGV[2])
  for i = 1, #before do got[#got + 1] = before[i] end
  redis.call('PEXPIRE', key, 2 * window)
  out[k] = got
  a = a + 3 + 2 * n
end
return out`;

/** Arguments per call on one Redis, about: well within a JS spread. */
const MAX_ARGS = 10_000;

type AddAndRead = (...keysAndArgs: Array<string | number>) => Promise<string[][]>;

export function createRecentTrack(redis: Redis, prefix: string): RecentTrack {
  const key = (riderId: string) => `${prefix}:rider-track:{${riderId}}`;
  // On one Redis ADD_AND_READ takes any number of riders' keys, the count first. On a cluster each
  // call has one key, given first: that is where the cross-slot pipeline (redis-cluster.ts) routes it.
  redis.defineCommand('deligoTrackAddAndReadMany', { lua: ADD_AND_READ });
  redis.defineCommand('deligoTrackAddAndRead', { numberOfKeys: 1, lua: ADD_AND_READ });
  const perRider = isCluster(redis);
  return {
    async addAndRead(byRider) {
      const riders = [...byRider.keys()];
      const pipeline = redis.pipeline() as unknown as { deligoTrackAddAndReadMany: AddAndRead; deligoTrackAddAndRead: AddAndRead; exec(): Promise<Array<[Error | null, unknown]> | null> };
      let chunk: string[] = [];
      let args: Array<string | number> = [WINDOW_MS, BEFORE];
      const send = () => {
        if (chunk.length > 0 && perRider) pipeline.deligoTrackAddAndRead(chunk[0]!, ...args);
        else if (chunk.length > 0) pipeline.deligoTrackAddAndReadMany(chunk.length, ...chunk, ...args);
        chunk = [];
        args = [WINDOW_MS, BEFORE];
      };
      for (const riderId of riders) {
        const points = byRider.get(riderId)!;
        let newest = -Infinity;
        let oldest = Infinity;
        for (const p of points) {
          if (p.recordedAt > newest) newest = p.recordedAt;
          if (p.recordedAt < oldest) oldest = p.recordedAt;
        }
        chunk.push(key(riderId));
        args.push(newest, oldest, points.length);
        for (const p of points) args.push(p.recordedAt, JSON.stringify(toTuple(p)));
        if (perRider || args.length >= MAX_ARGS) send();
      }
      send();
      const replies = (await pipeline.exec()) ?? [];
      const read: string[][] = [];
      for (const [err, reply] of replies) {
        if (err) throw err;
        read.push(...(reply as string[][]));
      }
      const out = new Map<string, LocationPoint[]>();
      riders.forEach((riderId, i) => {
        const members = read[i] ?? [];
        const own = new Set(byRider.get(riderId)!.map((p) => p.recordedAt));
        const previous: LocationPoint[] = [];
        for (const m of members) {
          const p = fromTuple(JSON.parse(m) as PointTuple);
          if (!own.has(p.recordedAt)) previous.push(p);
        }
        out.set(riderId, previous);
      });
      return out;
    },
  };
}
