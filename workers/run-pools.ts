import { JOBS } from '../jobs/index.ts';
import type { Platform } from '../runtime/platform.ts';
import { assertNoEviction, waitForRedis } from '../runtime/redis.ts';
import type { Releasers } from '../runtime/shutdown.ts';
import { startPool, type RunningPool } from './pool-runner.ts';
import { selectPools } from './pools.ts';

/** Starts the selected pools after checking that Redis will never evict their jobs. */
export async function runPools(platform: Platform, releasers: Releasers, selection: string[] | 'all'): Promise<RunningPool[]> {
  const pools = selectPools(selection);
  const connection = platform.workerConnection();
  await waitForRedis(connection);
  await assertNoEviction(connection);
  const deps = { config: platform.config, db: platform.db, redis: platform.redis, queues: platform.queues };
  return pools.map((pool) => {
    const running = startPool({ pool, jobs: JOBS, deps, connection, prefix: platform.config.queuePrefix, logger: platform.logger });
    releasers.add(`pool ${pool.name}`, () => running.close());
    return running;
  });
}
