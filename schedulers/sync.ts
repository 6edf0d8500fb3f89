import type { Logger } from '../runtime/logger.ts';
import type { QueueSet } from '../runtime/queues.ts';
import type { SchedulerDefinition } from './definitions.ts';

export interface SyncReport {
  upserted: string[];
  removed: string[];
}

/**
 * Makes Redis hold exactly the listed schedulers. Safe to run from several processes at once:
 * `upsertJobScheduler` is atomic per id, and every booting process removes the same leftovers.
 */
export async function syncSchedulers(queues: QueueSet, definitions: readonly SchedulerDefinition[], logger: Logger): Promise<SyncReport> {
  assertValid(definitions);
  const report: SyncReport = { upserted: [], removed: [] };
  for (const def of definitions) {
    const repeat = def.every !== undefined ? { every: def.every } : { pattern: def.pattern!, tz: def.tz ?? 'UTC' };
    await queues.get(def.job.queue).upsertJobScheduler(def.id, repeat, { name: def.job.name, data: def.job.data });
    report.upserted.push(def.id);
  }
  for (const { id, queue } of queues.all()) {
    const wanted = new Set(definitions.filter((d) => d.job.queue === id).map((d) => d.id));
    for (const existing of await queue.getJobSchedulers(0, -1)) {
      if (wanted.has(existing.key)) continue;
      await queue.removeJobScheduler(existing.key);
      report.removed.push(existing.key);
    }
  }
  logger.info(report, 'schedulers synced');
  return report;
}

function assertValid(definitions: readonly SchedulerDefinition[]): void {
  const seen = new Set<string>();
  for (const def of definitions) {
    if (seen.has(def.id)) throw new Error(`scheduler "${def.id}" is defined twice`);
    seen.add(def.id);
    if ((def.every === undefined) === (def.pattern === undefined)) {
      throw new Error(`scheduler "${def.id}" needs exactly one of every or pattern`);
    }
  }
}
