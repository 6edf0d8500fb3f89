import type { Config } from '../runtime/config.ts';
import type { QueueId } from '../runtime/queue-registry.ts';

/**
 * A pool is the unit of horizontal scaling: one process runs one or more pools, and every
 * process running the same pool shares its queues' work.
 */
export interface PoolDefinition {
  name: string;
  queues: QueueId[];
  /** Jobs one process runs at once per queue (a sharded queue's shards share it). */
  concurrency: number;
  /** Per queue: at most `max` jobs per `duration` ms across every process (BullMQ limiter; per shard for a sharded queue). */
  limiters?: Partial<Record<QueueId, { max: number; duration: number }>>;
  /** How long a job's lock lasts without renewal, in ms. BullMQ default 30000. */
  lockDuration?: number;
  /** How often to look for jobs of crashed workers, in ms. BullMQ default 30000. */
  stalledInterval?: number;
}

/** Each pool's capacity in one place; tune here, not at the call sites. */
export function poolDefinitions(config: Config): readonly PoolDefinition[] {
  const perSecond = (max: number) => ({ max, duration: 1_000 });
  const { rates } = config.notifications;
  return [
    // Batches take milliseconds; a short lock brings a crashed worker's batch back within ~15 s.
    // A batch's live update comes first in its job, and a job holds its slot until its history is
    // durable and its fraud rules ran: with few slots, a new batch waited in the queue behind
    // other batches' COPY (337 ms p50 on a busy box). Many slots take each batch at once, and the
    // history writer folds the jobs in flight into one COPY (location/history-writer.ts).
    { name: 'location', queues: ['location'], concurrency: 256, lockDuration: 10_000, stalledInterval: 5_000 },
    // No more matches in flight than the process has Postgres connections: a match beyond them would
    // wait for a connection (and time out under load) instead of waiting, visibly, in the queue.
    { name: 'dispatch', queues: ['dispatch'], concurrency: Math.min(50, config.databasePoolMax) },
    { name: 'orders', queues: ['orders'], concurrency: 20 },
    {
      name: 'notifications',
      queues: ['notifyPush', 'notifySms', 'notifyEmail', 'notifyKakao'],
      // Sends wait on providers, not CPU; many in flight also make the delivery-record batches large.
      concurrency: 500,
      // Sends are short (providers time out in seconds): a crashed worker's jobs come back within ~15 s.
      lockDuration: 10_000,
      stalledInterval: 5_000,
      // Providers throttle us; each limiter keeps the whole fleet of workers under one provider's quota.
      limiters: { notifyPush: perSecond(rates.push), notifySms: perSecond(rates.sms), notifyEmail: perSecond(rates.email), notifyKakao: perSecond(rates.kakao) },
    },
    // Sends wait on Postgres and Redis, not CPU, and are group-committed: at 00:00 many in flight
    // make the claim and notification batches large.
    // A burst batch (1,000 gifts) can take tens of seconds on a busy machine; with BullMQ's 30 s
    // lock it would be taken for stalled and run again. A crashed worker's sends still come back:
    // the lock expires, and each gift's own job and the reconciler stand behind them.
    { name: 'gifts', queues: ['gifts'], concurrency: 200, lockDuration: 120_000 },
    { name: 'group-orders', queues: ['groupOrders'], concurrency: 20 },
    { name: 'maintenance', queues: ['maintenance'], concurrency: 2, lockDuration: 120_000 },
  ];
}

export class UnknownPoolError extends Error {
  override name = 'UnknownPoolError';
}

/** `all` or a list of names → the pools, in registry order. Unknown names are an error, not ignored. */
export function selectPools(config: Config, selection: string[] | 'all'): PoolDefinition[] {
  const pools = poolDefinitions(config);
  if (selection === 'all') return [...pools];
  const names = pools.map((p) => p.name);
  const unknown = selection.filter((name) => !names.includes(name));
  if (unknown.length > 0) {
    throw new UnknownPoolError(`unknown pool ${unknown.map((n) => `"${n}"`).join(', ')}: expected ${names.join(', ')} or all`);
  }
  return pools.filter((p) => selection.includes(p.name));
}
