import type { JobsOptions } from 'bullmq';

/**
 * The one list of deligo's queues. The API, workers, schedulers, dashboards and CLI all read it.
 *
 * Renaming a queue is a data migration: jobs already in Redis stay under the old name.
 * Each name is a Redis Cluster hash tag (`{...}`), so all keys of one queue live in one slot
 * while different queues spread across the cluster.
 */
export interface QueueDefinition {
  /** BullMQ queue name, hash-tagged. */
  name: string;
  /** What the queue carries, shown in Bull Board. */
  description: string;
  /** Applied to every job unless the job definition overrides it. */
  defaultJobOptions: JobsOptions;
  /** Queues of one family, addressed together by the CLI (`--queue notifications`). */
  group?: string;
  /**
   * Split into several BullMQ queues (`{location-0}`, `{location-1}`, …) by a key such as the
   * rider id, so one hot queue's work spreads over several Redis Cluster slots. One key always
   * maps to one shard ({@link shardIndex}), which keeps per-key order. The count is config
   * ({@link QueueShardCounts}); with one shard the queue keeps its plain name (`{location}`).
   * Changing the count moves keys between shards, so drain the queue first.
   */
  shardedBy?: string;
}

const HOUR = 3600;
const DAY = 24 * HOUR;

/** Bounded retention: completed jobs go after an hour, failed ones (dead letters) after a week. */
const retained: Pick<JobsOptions, 'removeOnComplete' | 'removeOnFail'> = {
  removeOnComplete: { age: HOUR, count: 1_000 },
  removeOnFail: { age: 7 * DAY, count: 10_000 },
};

function notificationQueue(channel: string, description: string): QueueDefinition {
  return {
    name: `{notifications-${channel}}`,
    description,
    group: 'notifications',
    // 3 attempts with exponential backoff and jitter; the sender may shorten the delay (config).
    // A sent notification's record is its `notification_deliveries` row, so the finished job goes
    // at once; dead letters stay for replay like everywhere else.
    defaultJobOptions: { attempts: 3, backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 }, removeOnComplete: true, removeOnFail: retained.removeOnFail },
  };
}

export const QUEUES = {
  location: {
    name: '{location}',
    description: 'rider GPS batches: latest position, geo index, fraud rules, history',
    shardedBy: 'rider',
    // A location batch is acknowledged data: retry for a long time before it becomes a dead letter.
    defaultJobOptions: {
      attempts: 12,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: { age: 60, count: 200 },
      removeOnFail: { age: 7 * DAY, count: 50_000 },
    },
  },
  dispatch: {
    name: '{dispatch}',
    description: 'rider matching, sequential offers and their 15 s timeouts',
    defaultJobOptions: { attempts: 5, backoff: { type: 'exponential', delay: 1_000 }, ...retained },
  },
  orders: {
    name: '{orders}',
    description: 'order outbox relay and ETA refreshes',
    defaultJobOptions: { attempts: 5, backoff: { type: 'exponential', delay: 1_000 }, ...retained },
  },
  gifts: {
    name: '{gifts}',
    description: 'scheduled gift sends, reminders, expiry and refunds',
    defaultJobOptions: { attempts: 3, backoff: { type: 'exponential', delay: 5_000 }, ...retained },
  },
  groupOrders: {
    name: '{group-orders}',
    description: 'group-order expiry after 30 minutes and credit releases',
    defaultJobOptions: { attempts: 5, backoff: { type: 'exponential', delay: 1_000 }, ...retained },
  },
  // One queue per channel, so each provider gets its own BullMQ rate limiter.
  notifyPush: notificationQueue('push', 'push notifications through FCM to every device of a user'),
  notifySms: notificationQueue('sms', 'SMS through the configured HTTP provider'),
  notifyEmail: notificationQueue('email', 'email through SMTP'),
  notifyKakao: notificationQueue('kakao', 'KakaoTalk messages through the configured HTTP provider'),
  maintenance: {
    name: '{maintenance}',
    description: 'housekeeping: heartbeats, partitions, retention, reconcilers',
    defaultJobOptions: { attempts: 3, backoff: { type: 'exponential', delay: 5_000 }, ...retained },
  },
} as const satisfies Record<string, QueueDefinition>;

export type QueueId = keyof typeof QUEUES;

export const QUEUE_IDS = Object.keys(QUEUES) as QueueId[];

/** How many shards each sharded queue has (config `LOCATION_QUEUE_SHARDS`); unset means 1. */
export type QueueShardCounts = Partial<Record<QueueId, number>>;

/** One BullMQ queue: a registered queue, or one shard of a sharded one. */
export interface QueueShard {
  id: QueueId;
  /** BullMQ queue name, hash-tagged: `{dispatch}`, `{location-2}`. */
  name: string;
  /** The name people read: `dispatch`, `location-2`. */
  label: string;
  /** 0-based; 0 for an unsharded queue. */
  index: number;
}

/** Every BullMQ queue deligo runs, in registry order, shards of a queue together. */
export function queueShards(counts: QueueShardCounts, ids: readonly QueueId[] = QUEUE_IDS): QueueShard[] {
  return ids.flatMap((id) => {
    const def: QueueDefinition = QUEUES[id];
    if (!def.shardedBy || shardCount(counts, id) === 1) return [{ id, name: def.name, label: displayName(id), index: 0 }];
    const bare = displayName(id);
    return Array.from({ length: shardCount(counts, id) }, (_, index) => ({ id, name: `{${bare}-${index}}`, label: `${bare}-${index}`, index }));
  });
}

export function shardCount(counts: QueueShardCounts, id: QueueId): number {
  return (QUEUES[id] as QueueDefinition).shardedBy ? Math.max(1, counts[id] ?? 1) : 1;
}

/**
 * The shard of `key`: FNV-1a over its UTF-16 code units, modulo `count`. Stable across processes
 * and releases (the API picks the shard, the workers never need to), and cheap for the hot path.
 */
export function shardIndex(key: string, count: number): number {
  if (count <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % count;
}

/** Accepts the id (`groupOrders`), the bare name (`group-orders`) or the tagged name (`{group-orders}`). */
export function resolveQueueId(input: string): QueueId | undefined {
  const bare = input.replace(/^\{|\}$/g, '');
  return QUEUE_IDS.find((id) => id === input || QUEUES[id].name === `{${bare}}`);
}

/** Like {@link resolveQueueId}, but a group name (`notifications`) gives all of its queues. */
export function resolveQueueIds(input: string): QueueId[] {
  const one = resolveQueueId(input);
  if (one) return [one];
  return QUEUE_IDS.filter((id) => (QUEUES[id] as QueueDefinition).group === input);
}

/** The name people type and read: `group-orders` rather than `{group-orders}`. */
export function displayName(id: QueueId): string {
  return QUEUES[id].name.slice(1, -1);
}
