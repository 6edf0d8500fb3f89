import { z } from 'zod';
import { GONE_MS } from '../domain/ops-map/fleet-view.ts';
import { createFleetIndex } from '../location/fleet-index.ts';
import { scanKeys } from '../runtime/redis-cluster.ts';
import { defineJob } from './job-definition.ts';

/**
 * Takes riders who stopped sending (no point for 30 s) out of the geo index. Their next point puts
 * them back, since their status stays `available`. Nearby queries also filter freshness, so this
 * only keeps the cells small.
 */
export const locationSweep = defineJob({
  name: 'location.sweep-stale',
  queue: 'maintenance',
  payload: z.object({}),
  options: { attempts: 1, removeOnComplete: { count: 20 }, removeOnFail: { count: 100 } },
  async handler(_payload, ctx) {
    const { redis } = ctx;
    const { keys, state, isFresh } = ctx.location;
    const now = Date.now();
    let removed = 0;
    // Cells spread over every master of a cluster; scanKeys walks each.
    for await (const cellKeys of scanKeys(redis, keys.allCells, 200)) {
      for (const key of cellKeys) {
        const members = await redis.zrange(key, 0, -1);
        const riders = await state.getMany(members);
        const stale = members.filter((_, i) => {
          const rider = riders[i];
          return !rider || rider.status !== 'available' || !isFresh(rider, now) || keys.cell(rider.cell) !== key;
        });
        if (stale.length > 0) removed += await redis.zrem(key, ...stale);
      }
    }
    // The ops map's fleet index forgets riders it would no longer draw, so it stays the size of the recent fleet.
    await createFleetIndex(redis, keys).prune(now - GONE_MS);
    return { removed };
  },
});
