import type { LocationPoint } from '../domain/location/point.ts';
import { createBatcher } from '../runtime/batcher.ts';
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
  const commit = createBatcher(
    async (requests: LocationPoint[][]) => {
      const points = requests.flat();
      await queues.get('location').add('location.batch', { points: points.map(toTuple) });
      return requests.map(() => undefined);
    },
    // Requests carry up to 500 points; ~20 of them make one job of at most ~10k points.
    // Waiting 4 ms for company makes the jobs several times larger under load (a rider's fix is
    // one request of many): fewer jobs to add, fetch, finish and COPY per point, on every process.
    { maxWaitMs: options.maxWaitMs ?? 4, maxSize: options.maxPoints ?? 20 },
  );
  return { accept: (points) => commit(points) };
}
