import type { Job, Queue } from 'bullmq';
import cliProgress from 'cli-progress';
import { InvalidArgumentError, type Command } from 'commander';
import type { QueueSet } from '../../runtime/queues.ts';
import { CliError, openQueues, parsePositiveInt, parseQueueOption, type CliContext, type QueueTarget } from '../connect.ts';
import { formatTable, toRow, type JobRow } from './jobs-list.ts';

interface ReplayOptions {
  queue: QueueTarget[];
  since?: number;
  name?: string;
  limit?: number;
  dryRun?: boolean;
  resetAttempts?: boolean;
}

interface Tally {
  retried: number;
  skipped: number;
  errors: number;
}

/** Jobs fetched per round trip. */
const CHUNK = 100;
/** BullMQ's codes for "job is gone" and "job is no longer failed": someone else got there first. */
const VANISHED = new Set([-1, -3]);

/**
 * `deligo jobs replay --queue Q [--since 2h] [--name N] [--limit K] [--dry-run]`:
 * moves dead letters back to waiting, oldest first. Without --reset-attempts each job gets
 * exactly one more attempt, since its attemptsMade already equals its attempts.
 */
export function defineJobsReplayCommand(parent: Command, context: () => CliContext): void {
  parent
    .command('replay')
    .description('retry failed jobs, oldest first')
    .requiredOption('--queue <name>', 'queue id or name (maintenance, group-orders, …), or all', parseQueueOption)
    .option('--since <duration>', 'only jobs that failed within this long, such as 30m, 2h or 7d', parseDuration)
    .option('--name <job>', 'only jobs with this name, such as maintenance.heartbeat')
    .option('--limit <n>', 'retry at most this many', parsePositiveInt)
    .option('--reset-attempts', 'give each job its full attempts and backoff again')
    .option('--dry-run', 'list what would be retried and change nothing')
    .action(async (options: ReplayOptions) => {
      const queues = await openQueues(context());
      const tally = await replay(queues, options);
      const prefix = options.dryRun ? 'would retry' : 'retried';
      process.stdout.write(`${prefix} ${tally.retried}, skipped ${tally.skipped}, errors ${tally.errors}${options.dryRun ? ' (dry run)' : ''}\n`);
      if (tally.errors > 0) throw new CliError(`${tally.errors} job(s) could not be retried`);
    });
}

/** One BullMQ queue to replay: a queue, or one shard of a sharded one. */
interface Target {
  label: string;
  queue: Queue;
}

async function replay(queues: QueueSet, options: ReplayOptions): Promise<Tally> {
  // Snapshot the ids first: every retry shrinks the failed set, which would shift any paging.
  // A sharded queue (location) is several BullMQ queues: each shard's dead letters are replayed.
  const shards = options.queue.flatMap((target) => queues.shards(target.id));
  const candidates: Array<{ target: Target; id: string }> = [];
  for (const shard of shards) {
    const ids = await shard.queue.getRanges(['failed'], 0, -1, true);
    candidates.push(...ids.map((id) => ({ target: shard, id })));
  }
  const cutoff = options.since === undefined ? undefined : Date.now() - options.since;
  const tally: Tally = { retried: 0, skipped: 0, errors: 0 };
  const wouldRetry: JobRow[] = [];
  const problems: string[] = [];
  const progress = startProgress(candidates.length);
  try {
    for (let start = 0; start < candidates.length; start += CHUNK) {
      const chunk = candidates.slice(start, start + CHUNK);
      const jobs = await Promise.all(chunk.map((c) => c.target.queue.getJob(c.id)));
      const picked: Array<{ target: Target; job: Job }> = [];
      chunk.forEach((c, i) => {
        const job = jobs[i];
        const fits = job && matches(job, options, cutoff) && (options.limit === undefined || tally.retried + picked.length < options.limit);
        if (fits) picked.push({ target: c.target, job });
        else tally.skipped += 1;
      });
      if (options.dryRun) {
        wouldRetry.push(...picked.map(({ target, job }) => toRow(target.label, job)));
        tally.retried += picked.length;
      } else {
        const opts = { resetAttemptsMade: options.resetAttempts, resetAttemptsStarted: options.resetAttempts };
        const results = await Promise.allSettled(picked.map(({ job }) => job.retry('failed', opts)));
        results.forEach((result, i) => {
          if (result.status === 'fulfilled') return void (tally.retried += 1);
          const err = result.reason as Error & { code?: number };
          if (err.code !== undefined && VANISHED.has(err.code)) return void (tally.skipped += 1);
          tally.errors += 1;
          problems.push(`${picked[i]!.target.label} job ${picked[i]!.job.id}: ${err.message}`);
        });
      }
      progress.update(Math.min(start + CHUNK, candidates.length), tally);
    }
  } finally {
    progress.stop();
  }
  if (options.dryRun) process.stdout.write(wouldRetry.length > 0 ? formatTable(wouldRetry, shards.length > 1) : 'nothing to retry\n');
  for (const line of problems.slice(0, 10)) process.stderr.write(`deligo: ${line}\n`);
  if (problems.length > 10) process.stderr.write(`deligo: …and ${problems.length - 10} more\n`);
  return tally;
}

function matches(job: Job, options: ReplayOptions, cutoff: number | undefined): boolean {
  if (options.name !== undefined && job.name !== options.name) return false;
  return cutoff === undefined || (job.finishedOn ?? job.timestamp) >= cutoff;
}

interface Progress {
  update(done: number, tally: Tally): void;
  stop(): void;
}

/** A live bar for people; for pipes and CI logs, a plain line every few thousand jobs. */
function startProgress(total: number): Progress {
  if (!process.stderr.isTTY) {
    let reported = 0;
    return {
      update(done, t) {
        if (done - reported < 5_000 && done < total) return;
        if (total > CHUNK) process.stderr.write(`checked ${done}/${total}: retried ${t.retried}, skipped ${t.skipped}, errors ${t.errors}\n`);
        reported = done;
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: 'replay {bar} {value}/{total} | retried {retried} skipped {skipped} errors {errors}', hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { retried: 0, skipped: 0, errors: 0 });
  return { update: (done, t) => bar.update(done, { ...t }), stop: () => bar.stop() };
}

/** `30s`, `30m`, `2h`, `7d` → milliseconds. */
export function parseDuration(input: string): number {
  const match = /^(\d+)([smhd])$/.exec(input);
  if (!match) throw new InvalidArgumentError('expected a duration such as 30m, 2h or 7d');
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
