import { z } from 'zod';
import { rollUpMinutes } from '../db/location-rollups-repository.ts';
import { defineJob } from './job-definition.ts';

/**
 * Rolls raw points up into per-rider minutes. Each run takes at most `maxMinutes` closed minutes
 * after the stored progress, so after downtime successive runs catch up in bounded steps.
 */
export const locationRollup = defineJob({
  name: 'location.rollup',
  queue: 'maintenance',
  payload: z.object({
    maxMinutes: z.number().int().min(1).max(24 * 60).default(60),
    lateMs: z.number().int().min(0).max(3_600_000).default(60_000),
  }),
  options: { attempts: 1, removeOnComplete: { count: 50 }, removeOnFail: { count: 100 } },
  async handler(payload, ctx) {
    const run = await rollUpMinutes(ctx.db, { now: Date.now(), ...payload });
    const result = { from: new Date(run.from).toISOString(), to: new Date(run.to).toISOString(), minutes: run.minutes, rows: run.rows, caughtUp: run.caughtUp };
    if (!run.caughtUp) ctx.logger.info(result, 'location rollup catching up');
    return result;
  },
});
