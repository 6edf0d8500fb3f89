import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import os from 'node:os';
import { jobQueues, type JobContext, type JobDefinition, type JobDeps } from '../jobs/job-definition.ts';
import type { Logger } from '../runtime/logger.ts';
import { queueShards, type QueueId, type QueueShardCounts } from '../runtime/queue-registry.ts';
import { jobDuration } from './job-metrics.ts';
import type { PoolDefinition } from './pools.ts';

export interface RunningPool {
  name: string;
  workers: Worker[];
  /** Stops taking jobs, waits for active ones to finish, then closes. */
  close(): Promise<void>;
}

/**
 * Starts one BullMQ Worker per queue of the pool, and per shard of a sharded queue (every process
 * of the location pool works every shard). Each routes jobs by name to their definition.
 * `connection` must be a worker connection (`maxRetriesPerRequest: null`).
 */
export function startPool(options: {
  pool: PoolDefinition;
  jobs: ReadonlyArray<JobDefinition<any>>;
  deps: JobDeps;
  connection: Redis;
  prefix: string;
  /** Shards per sharded queue: config.queueShards. */
  shards: QueueShardCounts;
  logger: Logger;
}): RunningPool {
  const { pool, deps, logger } = options;
  const workerName = `${os.hostname()}:${process.pid}:${pool.name}`;
  const shards = queueShards(options.shards, pool.queues);
  const workers = shards.map(({ id: queueId, name, label }) => {
    const handlers = new Map(options.jobs.filter((j) => jobQueues(j).includes(queueId)).map((j) => [j.name, j]));
    const log = logger.child({ pool: pool.name, queue: label });
    // The pool's concurrency is per queue: a sharded queue's shards share it.
    const perShard = Math.ceil(pool.concurrency / shards.filter((s) => s.id === queueId).length);
    const worker = new Worker(name, (job) => runJob(job, queueId, handlers, deps, log, workerName), {
      connection: options.connection,
      prefix: options.prefix,
      name: workerName,
      concurrency: perShard,
      // An explicit `undefined` would override BullMQ's defaults and break its Lua scripts.
      ...(pool.limiters?.[queueId] && { limiter: pool.limiters[queueId] }),
      ...(pool.lockDuration && { lockDuration: pool.lockDuration }),
      ...(pool.stalledInterval && { stalledInterval: pool.stalledInterval }),
    });
    worker.on('error', (err) => log.error({ err: err.message }, 'worker error'));
    worker.on('failed', (job, err) => {
      if (!job) return;
      const final = job.attemptsMade >= (job.opts.attempts ?? 1) || err instanceof UnrecoverableError;
      log[final ? 'error' : 'warn'](
        { job: job.name, jobId: job.id, attempt: job.attemptsMade, final, err: err.message },
        final ? 'job failed for good; kept as a dead letter' : 'job failed; will retry',
      );
    });
    return worker;
  });
  logger.info({ pool: pool.name, queues: shards.map((s) => s.label), concurrency: pool.concurrency }, 'pool started');
  return {
    name: pool.name,
    workers,
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      logger.info({ pool: pool.name }, 'pool closed');
    },
  };
}

async function runJob(
  job: Job,
  queue: QueueId,
  handlers: Map<string, JobDefinition<any>>,
  deps: JobDeps,
  logger: Logger,
  worker: string,
): Promise<unknown> {
  const definition = handlers.get(job.name);
  if (!definition) throw new UnrecoverableError(`no handler for job "${job.name}" on queue ${queue}`);
  const parsed = definition.payload.safeParse(job.data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UnrecoverableError(`invalid payload for ${job.name}: ${issue?.path.join('.') || '(root)'} ${issue?.message ?? ''}`.trim());
  }
  const stop = jobDuration.startTimer({ queue, job: job.name });
  try {
    const ctx = {
      ...deps,
      job: { id: job.id ?? '', name: job.name, queue, attemptsMade: job.attemptsMade, attemptsStarted: job.attemptsStarted, attempts: job.opts.attempts ?? 1, worker, enqueuedAt: job.timestamp },
    } as JobContext;
    // Most jobs never log; the child logger is made only for those that do (it is not free at 10k jobs/s).
    let log: Logger | undefined;
    Object.defineProperty(ctx, 'logger', { get: () => (log ??= logger.child({ job: job.name, jobId: job.id })), enumerable: true });
    const result = await definition.handler(parsed.data, ctx);
    stop({ outcome: 'completed' });
    return result;
  } catch (err) {
    stop({ outcome: 'failed' });
    throw err;
  }
}
