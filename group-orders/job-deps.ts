import type { JobContext } from '../jobs/job-definition.ts';
import type { GroupOrderDeps } from './deps.ts';
import { createOpenGroupIndex } from './open-index.ts';

/** The group-order use cases' dependencies inside a job handler. */
export function groupOrderDepsFromJob(ctx: JobContext): GroupOrderDeps {
  return {
    db: ctx.db,
    queues: ctx.queues,
    config: ctx.config,
    logger: ctx.logger,
    index: createOpenGroupIndex(ctx.redis, ctx.config.queuePrefix),
    // The relay's own scheduler runs every few seconds, so a failed kick only delays the message.
    kickRelay: async () => {
      await ctx.queues.get('orders').add('orders.outbox-relay', {}).catch((err: Error) => ctx.logger.warn({ err: err.message }, 'could not kick the outbox relay'));
    },
  };
}
