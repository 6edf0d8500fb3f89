import type { Logger } from '../runtime/logger.ts';
import type { QueueSet } from '../runtime/queues.ts';

/**
 * Asks the outbox relay to run now, so notifications follow a commit within milliseconds. Kicks
 * within 50 ms collapse into one job. Best effort: the change is already committed, and if Redis
 * is away the relay's scheduler picks the rows up a few seconds later, so a failed kick is logged,
 * never reported to the caller.
 */
export function relayKicker(queues: QueueSet, logger: Logger): () => Promise<void> {
  return async () => {
    try {
      await queues.get('orders').add('orders.outbox-relay', {}, { deduplication: { id: 'outbox-relay', ttl: 50 } });
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'could not kick the outbox relay; its scheduler will catch up');
    }
  };
}
