import type { Redis } from 'ioredis';
import type { LocationPoint } from '../domain/location/point.ts';
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
 * One rider's batch in one command (all on the rider's key): add the points, trim what is two
 * windows old, and read the last BEFORE fixes older than the batch (within the window) and every
 * fix from the batch's oldest on.
 *
 * KEYS[1] the rider's track. ARGV: newest, oldest, window ms, BEFORE, then score, member pairs.
 */
const ADD_AND_READ = `
local key = KEYS[1]
local window = tonumber(ARGV[3])
local oldest = tonumber(ARGV[2])
redis.call('ZADD', key, unpack(ARGV, 5))
redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%d', tonumber(ARGV[1]) - 2 * window))
local out = redis.call('ZRANGEBYSCORE', key, ARGV[2], '+inf')
local before = redis.call('ZREVRANGEBYSCORE', key, '(' .. ARGV[2], string.format('%d', oldest - window), 'LIMIT', 0, ARGV[4])
for i = 1, #before do out[#out + 1] = before[i] end
redis.call('PEXPIRE', key, 2 * window)
return out`;

type AddAndRead = (key: string, newest: number, oldest: number, windowMs: number, before: number, ...scoresAndMembers: Array<string | number>) => Promise<string[]>;

export function createRecentTrack(redis: Redis, prefix: string): RecentTrack {
  const key = (riderId: string) => `${prefix}:rider-track:{${riderId}}`;
  redis.defineCommand('deligoTrackAddAndRead', { numberOfKeys: 1, lua: ADD_AND_READ });
  return {
    async addAndRead(byRider) {
      const riders = [...byRider.keys()];
      const pipeline = redis.pipeline() as unknown as { deligoTrackAddAndRead: AddAndRead; exec(): Promise<Array<[Error | null, unknown]> | null> };
      for (const riderId of riders) {
        const points = byRider.get(riderId)!;
        let newest = -Infinity;
        let oldest = Infinity;
        const args: Array<string | number> = [];
        for (const p of points) {
          if (p.recordedAt > newest) newest = p.recordedAt;
          if (p.recordedAt < oldest) oldest = p.recordedAt;
          args.push(p.recordedAt, JSON.stringify(toTuple(p)));
        }
        pipeline.deligoTrackAddAndRead(key(riderId), newest, oldest, WINDOW_MS, BEFORE, ...args);
      }
      const replies = (await pipeline.exec()) ?? [];
      const out = new Map<string, LocationPoint[]>();
      riders.forEach((riderId, i) => {
        const [err, members] = replies[i] ?? [new Error('no reply'), []];
        if (err) throw err;
        const own = new Set(byRider.get(riderId)!.map((p) => p.recordedAt));
        const previous: LocationPoint[] = [];
        for (const m of members as string[]) {
          const p = fromTuple(JSON.parse(m) as PointTuple);
          if (!own.has(p.recordedAt)) previous.push(p);
        }
        out.set(riderId, previous);
      });
      return out;
    },
  };
}
