import { createBatcher } from '../runtime/batcher.ts';
import type { Logger } from '../runtime/logger.ts';
import type { QueueSet } from '../runtime/queues.ts';

/** The deduplication id the kicked relay jobs share (the safety-net scheduler's jobs do not). */
export const RELAY_KICK = 'orders.outbox-relay.kick';

/**
 * How long a kicked relay waits before it starts, gathering the commits of that time into its
 * batch. At a hot spot's peak relays ran back to back, one every 45 ms or so with about 35 changes
 * each, and each run has its own fixed cost (the job, the claim and the commit, the delivery
 * records' statement, a route archive job): waiting 50 ms halves the runs. A status change then
 * reaches its notifications and trackers up to 50 ms later, well inside the second they have.
 */
export const RELAY_GATHER_MS = 50;

/**
 * Asks the outbox relay to run, so notifications and trackers follow a commit within tens of
 * milliseconds (the relay waits {@link RELAY_GATHER_MS} for more commits to join it). Kicks from
 * one process within a few ms share one job add, and kicks from every process share one job
 * (BullMQ deduplication with `keepLastIfActive`): while a kicked relay waits, a further kick adds
 * nothing, since that relay starts after the commit anyway; while one runs, a kick leaves one more
 * to follow it. So every kick after a commit still gets a relay that
 * starts after it, and no committed row waits for the safety-net scheduler; but at hundreds of
 * commits a second one relay drains what they wrote in a few large batches instead of a job (a
 * claim, a commit and a delete) per commit.
 * Best effort: the change is already committed, and if Redis is away the relay's scheduler picks
 * the rows up a few seconds later, so a failed kick is logged, never reported to the caller.
 *
 * `windowMs`: kicks within this long of the first share its add (default 10 ms). At a hot spot a
 * process commits several hundred status changes a second (acceptances, then each delivery's four
 * steps); closing the batch at the end of each event-loop turn still sent an add, a BullMQ script
 * that mostly found the relay already waiting, for nearly every commit. The relay then starts at
 * most this much later (and the gather after it), far inside the second within which trackers must
 * hear of a change.
 */
export function relayKicker(queues: QueueSet, logger: Logger, options: { windowMs?: number } = {}): () => Promise<void> {
  const kick = createBatcher(
    async (kicks: null[]) => {
      await queues.get('orders').add('orders.outbox-relay', {}, { deduplication: { id: RELAY_KICK, keepLastIfActive: true }, delay: RELAY_GATHER_MS });
      return kicks.map(() => undefined);
    },
    { maxWaitMs: options.windowMs ?? 10 },
  );
  return async () => {
    try {
      await kick(null);
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'could not kick the outbox relay; its scheduler will catch up');
    }
  };
}
