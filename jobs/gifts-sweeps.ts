import { z } from 'zod';
import { prepareBursts } from '../gifts/burst.ts';
import { dropStaleStaged } from '../db/gift-staged-sends-repository.ts';
import { expireGifts, remindHolders } from '../gifts/housekeeping.ts';
import { reconcileSends } from '../gifts/reconcile.ts';
import { settleSends } from '../gifts/settle.ts';
import { defineJob } from './job-definition.ts';

/**
 * Scheduler-driven gift sweeps. Each is safe to run twice at once: every step is conditional.
 * They run on the maintenance queue, not on `gifts`: at 00:00 the gifts queue holds a whole
 * minute's sends, and a reconciler or settle queued behind them would run only after the burst.
 */
const sweep = { attempts: 1, removeOnComplete: { count: 50 }, removeOnFail: { count: 100 } };

/** Re-adds the send job of any gift that needs one and has none (Redis loss, failed enqueue). */
export const giftsReconcile = defineJob({
  name: 'gifts.reconcile',
  queue: 'maintenance',
  payload: z.object({}),
  options: sweep,
  async handler(_payload, ctx) {
    const every = ctx.config.gifts.reconcileMs;
    // Look one run ahead (plus slack), so a lost job is back before its gift is due.
    // A send claimed but not recorded for two minutes was abandoned (see ABANDONED_AFTER_MS in
    // gifts/sender.ts); sooner, it is still being delivered, and re-adding it is wasted work.
    const result = await reconcileSends(ctx, { lookaheadMs: 2 * every + 5_000, graceMs: Math.max(10_000, every), stuckAfterMs: Math.max(120_000, every) });
    if (result.readded > 0) ctx.logger.warn(result, 're-added missing gift send jobs');
    return result;
  },
});

/** More gift jobs than this active or waiting: a burst is being sent. */
const BUSY_JOBS = 50;

/** SENDING → SENT or FAILED_REFUNDED, from the delivery records. */
export const giftsSettle = defineJob({
  name: 'gifts.settle',
  queue: 'maintenance',
  payload: z.object({}),
  options: sweep,
  async handler(_payload, ctx) {
    // Gifts sent at the first attempt are SENT and their senders told by the batch itself; this
    // settles the ones that went through a channel queue. While a burst is being sent the
    // recipients go first: those follow in small steps, and in full once the gift queue drains.
    const counts = await ctx.queues.get('gifts').getJobCounts('active', 'wait');
    const busy = (counts.active ?? 0) + (counts.wait ?? 0) > BUSY_JOBS;
    return settleSends(ctx, { limit: busy ? 1_000 : 10_000 });
  },
});

/** Expiry with refund, then D-3/D-1 reminders, then staged sends nobody will use (an hour past their use). */
export const giftsHousekeeping = defineJob({
  name: 'gifts.housekeeping',
  queue: 'maintenance',
  payload: z.object({}),
  options: sweep,
  async handler(_payload, ctx) {
    const expired = await expireGifts(ctx);
    const reminded = await remindHolders(ctx);
    const unstaged = await dropStaleStaged(ctx.db, new Date(Date.now() - 3_600_000));
    return { expired, reminded, unstaged };
  },
});

/** Cuts bursts due soon (many gifts at one instant) into batch jobs ahead of time (gifts/burst.ts). */
export const giftsPrepare = defineJob({
  name: 'gifts.prepare',
  queue: 'maintenance',
  payload: z.object({}),
  options: sweep,
  handler: (_payload, ctx) => prepareBursts(ctx, { horizonMs: ctx.config.gifts.burstHorizonMs, minGifts: ctx.config.gifts.burstMin }),
});
