import { z } from 'zod';
import { dropExpiredPartitions, ensurePartitions } from '../db/location-partitions.ts';
import { defineJob } from './job-definition.ts';

/**
 * Keeps the location history's partitions a few hours (raw) and days (rollups) ahead, backfills
 * any missed during downtime, and drops whole partitions past retention. Creating comes first,
 * so a failed drop never leaves ingest without a partition to write into.
 */
export const locationPartitions = defineJob({
  name: 'location.partitions',
  queue: 'maintenance',
  payload: z.object({
    hoursAhead: z.number().int().min(1).max(72).default(3),
    daysAhead: z.number().int().min(1).max(30).default(2),
    rawHours: z.number().int().min(1).default(24),
    rollupDays: z.number().int().min(1).default(7),
  }),
  options: { attempts: 1, removeOnComplete: { count: 50 }, removeOnFail: { count: 100 } },
  async handler(payload, ctx) {
    const now = Date.now();
    const created = await ensurePartitions(ctx.db, now, payload);
    const dropped = await dropExpiredPartitions(ctx.db, now, payload);
    if (created.length > 0 || dropped.length > 0) ctx.logger.info({ created, dropped }, 'location partitions changed');
    return { created, dropped };
  },
});
