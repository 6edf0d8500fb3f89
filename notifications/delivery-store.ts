import type { Knex } from 'knex';
import { loadDeliveries, markSent, markUnsent, type DeliveryToSend, type SentResult, type UnsentResult } from '../db/notification-deliveries-repository.ts';
import { createBatcher } from '../runtime/batcher.ts';

/**
 * The send job's view of `notification_deliveries`: one read before the send and one write
 * after it. Reads and sent-marks from concurrent jobs are batched, so a worker with 200 sends in
 * flight makes a few statements per batch, not two per send.
 */
export interface DeliveryStore {
  load(id: string): Promise<DeliveryToSend | undefined>;
  markSent(result: SentResult): Promise<void>;
  markUnsent(result: UnsentResult): Promise<void>;
}

export function createDeliveryStore(db: Knex): DeliveryStore {
  const load = createBatcher((ids: string[]) => loadDeliveries(db, ids));
  const sent = createBatcher(async (results: SentResult[]) => {
    await markSent(db, results);
    return results.map(() => undefined);
  });
  return {
    load,
    markSent: sent,
    // Failures are the exception; they go one by one.
    markUnsent: (result) => markUnsent(db, result),
  };
}
