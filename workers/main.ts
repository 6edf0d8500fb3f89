/**
 * Worker process: `npm run workers -- --pools location,dispatch` (or WORKER_POOLS).
 * Run several of these to scale a pool out; they share the pool's queues.
 */
import { runEntry } from '../runtime/entry.ts';
import { runPools } from './run-pools.ts';

await runEntry('workers', async ({ config, platform, releasers }) => {
  const flag = process.argv.indexOf('--pools');
  const selection = flag >= 0 ? (process.argv[flag + 1] ?? '').split(',').filter(Boolean) : config.workerPools;
  const pools = await runPools(platform, releasers, selection.length ? selection : 'all');
  platform.logger.info({ pools: pools.map((p) => p.name) }, 'workers ready');
});
