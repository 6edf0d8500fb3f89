import { z } from 'zod';
import { GIFT_SEND_JOB } from '../gifts/schedule.ts';
import { defineJob } from './job-definition.ts';

/**
 * Fires at a gift's send time (delayed, jobId = gift id) and sends it exactly once: the claim is
 * a conditional update, so a duplicate job, a stalled retry or a racing cancel sends nothing more.
 * Finished jobs are removed at once: the gift row is the record, and a free id lets the
 * reconciler add the job again should the gift still need it.
 */
export const giftSend = defineJob({
  name: GIFT_SEND_JOB,
  queue: 'gifts',
  payload: z.object({ giftId: z.string().min(1).max(64) }),
  options: { removeOnComplete: true },
  async handler({ giftId }, ctx) {
    const outcome = await ctx.gifts.sender.send(giftId, { resume: ctx.job.attemptsStarted > 1 || ctx.job.attemptsMade > 0 });
    if ('skipped' in outcome) ctx.logger.info({ giftId, skipped: outcome.skipped }, 'gift not sent');
    return outcome;
  },
});
