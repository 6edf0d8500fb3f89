import type { Config } from '../runtime/config.ts';
import type { QueueId } from '../runtime/queue-registry.ts';

/**
 * Repeating work, as data. The runner upserts these at boot and removes any scheduler that
 * is no longer listed; nothing else in deligo creates repeating jobs.
 */
export interface SchedulerDefinition {
  /** Stable id; renaming it creates a new scheduler and removes the old one. */
  id: string;
  /** Interval in ms. Give this or `pattern`. */
  every?: number;
  /** Cron pattern. Give this or `every`. */
  pattern?: string;
  /** IANA zone for `pattern`. Default UTC. */
  tz?: string;
  job: { queue: QueueId; name: string; data: Record<string, unknown> };
}

export const SCHEDULERS: readonly SchedulerDefinition[] = [
  { id: 'heartbeat', every: 15_000, job: { queue: 'maintenance', name: 'maintenance.heartbeat', data: { id: 'heartbeat' } } },
  { id: 'location-sweep-stale', every: 10_000, job: { queue: 'maintenance', name: 'location.sweep-stale', data: {} } },
  { id: 'location-partitions', every: 600_000, job: { queue: 'maintenance', name: 'location.partitions', data: {} } },
  { id: 'location-rollup', every: 30_000, job: { queue: 'maintenance', name: 'location.rollup', data: {} } },
  { id: 'orders-refresh-eta', every: 20_000, job: { queue: 'orders', name: 'orders.refresh-eta', data: {} } },
  { id: 'orders-outbox-relay', every: 5_000, job: { queue: 'orders', name: 'orders.outbox-relay', data: {} } },
  // Open orders back into Redis within a minute of Redis losing them (a read of open orders when nothing is missing).
  { id: 'orders-reindex-active', every: 60_000, job: { queue: 'maintenance', name: 'orders.reindex-active', data: {} } },
  // Offers whose timeout job was never added or was lost: expired and moved on within a minute.
  { id: 'dispatch-offer-sweep', every: 30_000, job: { queue: 'dispatch', name: 'dispatch.offer-sweep', data: {} } },
  { id: 'notifications-reconcile', every: 60_000, job: { queue: 'maintenance', name: 'notifications.reconcile', data: {} } },
  { id: 'group-orders-reconcile', every: 60_000, job: { queue: 'groupOrders', name: 'group-orders.reconcile', data: {} } },
];

/** Gift sweeps; their intervals are settings (GIFT_RECONCILE_MS, …) so tests need not wait minutes. */
export function giftSchedulers(gifts: Config['gifts']): SchedulerDefinition[] {
  return [
    { id: 'gifts-reconcile', every: gifts.reconcileMs, job: { queue: 'maintenance', name: 'gifts.reconcile', data: {} } },
    { id: 'gifts-settle', every: gifts.settleMs, job: { queue: 'maintenance', name: 'gifts.settle', data: {} } },
    { id: 'gifts-housekeeping', every: gifts.housekeepingMs, job: { queue: 'maintenance', name: 'gifts.housekeeping', data: {} } },
    // A third of the horizon: every burst is seen at least twice before its instant.
    { id: 'gifts-prepare', every: Math.max(1_000, Math.floor(gifts.burstHorizonMs / 3)), job: { queue: 'maintenance', name: 'gifts.prepare', data: {} } },
  ];
}

/** Everything to upsert at boot: the fixed list plus the ones whose interval is configured. */
export function schedulerDefinitions(config: Config): SchedulerDefinition[] {
  return [...SCHEDULERS, ...giftSchedulers(config.gifts)];
}
