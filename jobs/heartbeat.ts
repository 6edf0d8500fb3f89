import { z } from 'zod';
import { recordHeartbeat } from '../db/heartbeats-repository.ts';
import { defineJob } from './job-definition.ts';

/**
 * Proves the whole scheduling path moves: scheduler → queue → worker → Postgres.
 * `/readyz` and ops read the last beat; a stale one means schedulers or the maintenance pool are down.
 */
export const heartbeat = defineJob({
  name: 'maintenance.heartbeat',
  queue: 'maintenance',
  payload: z.object({ id: z.string().min(1) }),
  options: { attempts: 1, removeOnComplete: { count: 10 }, removeOnFail: { count: 100 } },
  async handler(payload, ctx) {
    const at = new Date();
    await recordHeartbeat(ctx.db, payload.id, ctx.job.worker, at);
    return { at: at.toISOString() };
  },
});
