import type { Job, JobType } from 'bullmq';
import { Option, type Command } from 'commander';
import { openQueues, parsePositiveInt, parseQueueOption, type CliContext, type QueueTarget } from '../connect.ts';

export const LISTABLE_STATES = ['failed', 'delayed', 'waiting', 'active', 'completed', 'prioritized', 'waiting-children'] as const;

type ListableState = (typeof LISTABLE_STATES)[number];

interface ListOptions {
  queue: QueueTarget[];
  state: ListableState;
  limit: number;
  json?: boolean;
}

/** What `jobs list --json` prints per job, and what the table shows. */
export interface JobRow {
  queue: string;
  id: string;
  name: string;
  attemptsMade: number;
  timestamp: string;
  finishedOn: string | null;
  failedReason: string | null;
}

/** `deligo jobs list --queue Q [--state failed] [--limit 20] [--json]`: newest first. */
export function defineJobsListCommand(parent: Command, context: () => CliContext): void {
  parent
    .command('list')
    .description('show the newest jobs of a queue in one state')
    .requiredOption('--queue <name>', 'queue id or name (maintenance, group-orders, …), or all', parseQueueOption)
    .addOption(new Option('--state <state>', 'which jobs').choices(LISTABLE_STATES).default('failed'))
    .option('--limit <n>', 'at most this many jobs', parsePositiveInt, 20)
    .option('--json', 'print a JSON array instead of a table')
    .action(async (options: ListOptions) => {
      const queues = await openQueues(context());
      const rows: JobRow[] = [];
      // A sharded queue (location) is several BullMQ queues: list each, labelled by shard.
      const shards = options.queue.flatMap((target) => queues.shards(target.id));
      for (const shard of shards) {
        const jobs = await shard.queue.getJobs([options.state as JobType], 0, options.limit - 1, false);
        rows.push(...jobs.filter(Boolean).map((job) => toRow(shard.label, job)));
      }
      // Across several queues, "newest first" must hold for the merged list too.
      rows.sort((a, b) => b.timestamp.localeCompare(a.timestamp));
      const shown = rows.slice(0, options.limit);
      if (options.json) process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
      else process.stdout.write(shown.length > 0 ? formatTable(shown, shards.length > 1) : `no ${options.state} jobs\n`);
    });
}

export function toRow(queue: string, job: Job): JobRow {
  return {
    queue,
    id: String(job.id),
    name: job.name,
    attemptsMade: job.attemptsMade,
    timestamp: new Date(job.timestamp).toISOString(),
    finishedOn: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
    failedReason: job.failedReason || null,
  };
}

/** A plain aligned table; the reason is cut to one short line so each job stays on one row. */
export function formatTable(rows: JobRow[], withQueue: boolean): string {
  const header = [...(withQueue ? ['QUEUE'] : []), 'ID', 'NAME', 'ATTEMPTS', 'TIMESTAMP', 'FAILED REASON'];
  const cells = rows.map((r) => [
    ...(withQueue ? [r.queue] : []),
    r.id,
    r.name,
    String(r.attemptsMade),
    r.timestamp,
    truncate(r.failedReason ?? '', 60),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...cells.map(line)].join('\n') + '\n';
}

function truncate(text: string, max: number): string {
  const first = text.split('\n', 1)[0]!.trim();
  return first.length > max ? `${first.slice(0, max - 1)}…` : first;
}
