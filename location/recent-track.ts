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

export function createRecentTrack(redis: Redis, prefix: string): RecentTrack {
  const key = (riderId: string) => `${prefix}:rider-track:{${riderId}}`;
  return {
    async addAndRead(byRider) {
      const riders = [...byRider.keys()];
      const pipeline = redis.pipeline();
      for (const riderId of riders) {
        const points = byRider.get(riderId)!;
        const newest = Math.max(...points.map((p) => p.recordedAt));
        const oldest = Math.min(...points.map((p) => p.recordedAt));
        const k = key(riderId);
        pipeline.zadd(k, ...points.flatMap((p) => [p.recordedAt, JSON.stringify(toTuple(p))]));
        pipeline.zremrangebyscore(k, '-inf', newest - 2 * WINDOW_MS);
        pipeline.zrangebyscore(k, oldest - WINDOW_MS, '+inf');
        pipeline.pexpire(k, 2 * WINDOW_MS);
      }
      const replies = (await pipeline.exec()) ?? [];
      const out = new Map<string, LocationPoint[]>();
      riders.forEach((riderId, i) => {
        const [err, members] = replies[i * 4 + 2] ?? [new Error('no reply'), []];
        if (err) throw err;
        const own = new Set(byRider.get(riderId)!.map((p) => p.recordedAt));
        const previous = (members as string[]).map((m) => fromTuple(JSON.parse(m) as PointTuple)).filter((p) => !own.has(p.recordedAt));
        out.set(riderId, previous);
      });
      return out;
    },
  };
}
