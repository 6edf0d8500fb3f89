import { createBatcher } from '../runtime/batcher.ts';
import type { Logger } from '../runtime/logger.ts';
import type { QueueSet } from '../runtime/queues.ts';

/**
 * Asks the outbox relay to run now, so notifications and dispatch follow a commit within
 * milliseconds. Kicks from one process within a few ms share one job; every kick after a commit
 * still gets a job that starts after it, so no committed row waits for the safety-net scheduler.
 * Best effort: the change is already committed, and if Redis is away the relay's scheduler picks
 * the rows up a few seconds later, so a failed kick is logged, never reported to the caller.
 */
export function relayKicker(queues: QueueSet, logger: Logger): () => Promise<void> {
  const kick = createBatcher(
    async (kicks: null[]) => {
      await queues.get('orders').add('orders.outbox-relay', {});
      return kicks.map(() => undefined);
    },
    { maxWaitMs: 0 },
  );
  return async () => {
    try {
      await kick(null);
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'could not kick the outbox relay; its scheduler will catch up');
    }
  };
}
