/**
 * Scheduler process: upserts every definition in `definitions.ts` (`schedulerDefinitions`) and removes leftovers, then exits.
 * BullMQ's Job Schedulers live in Redis and are advanced by the workers, so nothing has to keep running.
 */
import { runEntry } from '../runtime/entry.ts';
import { schedulerDefinitions } from './definitions.ts';
import { syncSchedulers } from './sync.ts';

await runEntry('schedulers', async ({ platform, releasers }) => {
  await syncSchedulers(platform.queues, schedulerDefinitions(platform.config), platform.logger);
  await releasers.releaseAll();
  process.exit(0);
});
