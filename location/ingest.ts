import type { LocationPoint } from '../domain/location/point.ts';
import { createBatcher } from '../runtime/batcher.ts';
import { shardIndex } from '../runtime/queue-registry.ts';
import type { QueueSet } from '../runtime/queues.ts';
import { toTuple } from './point-codec.ts';

/**
 * "Location batching": points from concurrent requests are group-committed into one
 * `location.batch` job, one Redis write (appended to the AOF) for many riders. A request is
 * acknowledged only after that write succeeded, so an acknowledged point is never lost.
 */
export interface LocationIngest {
  accept(points: LocationPoint[]): Promise<void>;
}

export function createLocationIngest(queues: QueueSet, options: { maxWaitMs?: number; maxPoints?: number } = {}): LocationIngest {
  // The location queue is sharded by rider (one rider, one shard: its points keep their order),
  // and a group commit is one write to one shard's keys, so each shard has its own: on Redis
  // Cluster a write can only be atomic within one slot.
  const shards = queues.shards('location').map(({ queue }) =>
    createBatcher(
      async (requests: LocationPoint[][]) => {
        const points = requests.flat();
        await queue.add('location.batch', { points: points.map(toTuple) });
        return requests.map(() => undefined);
      },
      // Requests carry up to 500 points; ~20 of them make one job of at most ~10k points.
      // Waiting 4 ms for company makes the jobs several times larger under load (a rider's fix is
      // one request of many): fewer jobs to add, fetch, finish and COPY per point, on every process.
      { maxWaitMs: options.maxWaitMs ?? 4, maxSize: options.maxPoints ?? 20 },
    ),
  );
  return {
    accept(points) {
      // A request from the API is one rider's; anything else is split by shard, and acknowledged
      // once every shard's write has succeeded.
      if (shards.length === 1) return shards[0]!(points);
      const first = points[0]?.riderId ?? '';
      if (points.every((p) => p.riderId === first)) return shards[shardIndex(first, shards.length)]!(points);
      const byShard = new Map<number, LocationPoint[]>();
      for (const p of points) {
        const shard = shardIndex(p.riderId, shards.length);
        const list = byShard.get(shard);
        if (list) list.push(p);
        else byShard.set(shard, [p]);
      }
      return Promise.all([...byShard].map(([shard, list]) => shards[shard]!(list))).then(() => undefined);
    },
  };
}
