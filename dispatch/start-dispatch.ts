import type { Knex } from 'knex';
import { createBatcher } from '../runtime/batcher.ts';
import type { Logger } from '../runtime/logger.ts';
import type { QueueSet } from '../runtime/queues.ts';

/**
 * Where the restaurant is, sent with the first matching step so its first search starts alongside
 * opening the dispatch instead of after it (the matcher uses it only if it matches the order's).
 */
export interface Near {
  lat: number;
  lng: number;
}

/** The first matching step's job id: the same from every path, so an order's dispatch starts once. */
export const firstMatchJobId = (orderId: string) => `match-${orderId}-r1`;

/**
 * Starts looking for a rider right after the restaurant's acceptance commits, from the same code
 * path, instead of waiting for the outbox relay to come round (seconds at a hot spot). Best
 * effort: the acceptance is committed either way, and its outbox row makes the relay start the
 * dispatch if this enqueue did not happen (process stopped, Redis away). Exactly once: both paths
 * use one job id, and the relay skips orders whose dispatch already exists ({@link dispatchesStarted}).
 * Acceptances arriving together go to Redis as one `addBulk`.
 */
export function dispatchStarter(queues: QueueSet, logger: Logger): (orderId: string, near: Near) => Promise<void> {
  const add = createBatcher(
    async (starts: Array<{ orderId: string; near: Near }>) => {
      await queues.get('dispatch').addBulk(starts.map((data) => ({ name: 'dispatch.match', data, opts: { jobId: firstMatchJobId(data.orderId) } })));
      return starts.map(() => undefined);
    },
    { maxWaitMs: 0 },
  );
  return async (orderId, near) => {
    try {
      await add({ orderId, near });
    } catch (err) {
      logger.warn({ err: (err as Error).message, orderId }, 'could not start dispatch; the outbox relay will');
    }
  };
}

/**
 * Of these orders, the ones whose dispatch was already opened (its first matching step ran). The
 * relay enqueues the first step only for the others: the job of a direct start that already ran
 * may have been removed from the queue, and its id alone would no longer stop a second one.
 */
export async function dispatchesStarted(db: Knex, orderIds: readonly string[]): Promise<Set<string>> {
  if (orderIds.length === 0) return new Set();
  const { rows } = await db.raw<{ rows: Array<{ order_id: string }> }>('SELECT order_id FROM dispatches WHERE order_id = ANY(?::text[])', [orderIds] as unknown as Knex.RawBinding[]);
  return new Set(rows.map((r) => r.order_id));
}
