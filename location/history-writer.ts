import type { Knex } from 'knex';
import { copyPoints } from '../db/location-history-repository.ts';
import type { LocationPoint } from '../domain/location/point.ts';
import { createBatcher } from '../runtime/batcher.ts';

/**
 * Writes rider points to history. Concurrent location jobs share one COPY: a worker running many
 * batches at once makes one transaction (and one fsync) for all of them.
 */
export interface HistoryWriter {
  write(points: LocationPoint[]): Promise<void>;
}

export function createHistoryWriter(db: Knex): HistoryWriter {
  const write = createBatcher(
    async (batches: LocationPoint[][]) => {
      await copyPoints(db, batches.flat());
      return batches.map(() => undefined);
    },
    { maxWaitMs: 2, maxSize: 256 },
  );
  return { write };
}
