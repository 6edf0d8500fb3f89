import type { QueueId } from '../runtime/queue-registry.ts';

/**
 * A pool is the unit of horizontal scaling: one process runs one or more pools, and every
 * process running the same pool shares its queues' work.
 */
export interface PoolDefinition {
  name: string;
  queues: QueueId[];
  /** Jobs one process runs at once per queue. */
  concurrency: number;
  /** At most `max` jobs per `duration` ms across every process of the pool (BullMQ limiter). */
  limiter?: { max: number; duration: number };
  /** How long a job's lock lasts without renewal, in ms. BullMQ default 30000. */
  lockDuration?: number;
}

/** Each pool's capacity in one place; tune here, not at the call sites. */
export const POOLS: readonly PoolDefinition[] = [
  { name: 'location', queues: ['location'], concurrency: 16 },
  { name: 'dispatch', queues: ['dispatch'], concurrency: 50 },
  { name: 'orders', queues: ['orders'], concurrency: 20 },
  // Providers throttle us; the limiter keeps the whole fleet of workers under their quota.
  { name: 'notifications', queues: ['notifications'], concurrency: 50, limiter: { max: 500, duration: 1_000 } },
  { name: 'gifts', queues: ['gifts'], concurrency: 50 },
  { name: 'group-orders', queues: ['groupOrders'], concurrency: 20 },
  { name: 'maintenance', queues: ['maintenance'], concurrency: 2, lockDuration: 120_000 },
];

export const POOL_NAMES = POOLS.map((p) => p.name);

export class UnknownPoolError extends Error {
  override name = 'UnknownPoolError';
}

/** `all` or a list of names → the pools, in registry order. Unknown names are an error, not ignored. */
export function selectPools(selection: string[] | 'all'): PoolDefinition[] {
  if (selection === 'all') return [...POOLS];
  const unknown = selection.filter((name) => !POOL_NAMES.includes(name));
  if (unknown.length > 0) {
    throw new UnknownPoolError(`unknown pool ${unknown.map((n) => `"${n}"`).join(', ')}: expected ${POOL_NAMES.join(', ')} or all`);
  }
  return POOLS.filter((p) => selection.includes(p.name));
}
