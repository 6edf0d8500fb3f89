import { z } from 'zod';
import { findOverdue } from '../db/notification-deliveries-repository.ts';
import { enqueueDeliveries } from '../notifications/notify.ts';
import { defineJob } from './job-definition.ts';

/**
 * Postgres is the record of what must be sent. Every minute this re-adds a job for deliveries
 * that have sat unsent too long — a crash between the row and the enqueue, or Redis lost the job.
 * Re-adding is harmless: a job that still exists under that id is left as it is.
 */
export const notificationReconcile = defineJob({
  name: 'notifications.reconcile',
  queue: 'maintenance',
  payload: z.object({ olderThanMs: z.number().int().positive().default(120_000), limit: z.number().int().positive().default(5_000) }),
  options: { attempts: 1, removeOnComplete: { count: 50 }, removeOnFail: { count: 100 } },
  async handler(payload, ctx) {
    const overdue = await findOverdue(ctx.db, payload);
    if (overdue.length > 0) {
      await enqueueDeliveries(ctx, overdue);
      ctx.logger.info({ count: overdue.length }, 're-enqueued overdue notification deliveries');
    }
    return { reenqueued: overdue.length };
  },
});
