import { JOBS } from '../jobs/index.ts';
import type { Providers } from '../notifications/providers/index.ts';
import { createJobDeps } from './job-deps.ts';
import type { Platform } from '../runtime/platform.ts';
import { assertNoEviction, waitForRedis } from '../runtime/redis.ts';
import type { Releasers } from '../runtime/shutdown.ts';
import { startPool, type RunningPool } from './pool-runner.ts';
import { selectPools } from './pools.ts';

/**
 * Starts the selected pools after checking that Redis will never evict their jobs.
 * `providers` replaces the configured notification providers (tests point them at stand-ins).
 */
export async function runPools(
  platform: Platform,
  releasers: Releasers,
  selection: string[] | 'all',
  overrides: { providers?: Providers } = {},
): Promise<RunningPool[]> {
  const pools = selectPools(platform.config, selection);
  const connection = platform.workerConnection();
  await waitForRedis(connection);
  await assertNoEviction(connection);
  const deps = createJobDeps(platform, overrides);
  // Registered before the pools, so providers close after the last job has finished.
  releasers.add('job dependencies', () => deps.close());
  return pools.map((pool) => {
    const running = startPool({ pool, jobs: JOBS, deps, connection, prefix: platform.config.queuePrefix, shards: platform.config.queueShards, logger: platform.logger });
    releasers.add(`pool ${pool.name}`, () => running.close());
    return running;
  });
}
