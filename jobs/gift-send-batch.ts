import { z } from 'zod';
import { GIFT_SEND_BATCH_JOB } from '../gifts/burst.ts';
import { defineJob } from './job-definition.ts';

/**
 * Sends a prepared batch of a burst (see gifts/burst.ts) at its instant: one claim and one
 * delivery batch for up to a thousand gifts. Each gift is still claimed conditionally, so a gift
 * cancelled meanwhile, or already sent by its own fallback job, is skipped.
 */
export const giftSendBatch = defineJob({
  name: GIFT_SEND_BATCH_JOB,
  queue: 'gifts',
  payload: z.object({ giftIds: z.array(z.string().min(1).max(64)).min(1).max(5_000), dueAt: z.number().int() }),
  options: { removeOnComplete: { age: 3_600 } },
  async handler({ giftIds }, ctx) {
    // A run after one that died or failed also writes the record its gifts may lack.
    const outcomes = await ctx.gifts.sender.sendMany(giftIds, { resume: ctx.job.attemptsStarted > 1 || ctx.job.attemptsMade > 0 });
    const sent = outcomes.filter((o) => 'sent' in o).length;
    return { sent, skipped: outcomes.length - sent };
  },
});
