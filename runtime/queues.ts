import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUES, queueShards, shardIndex, type QueueId, type QueueShard, type QueueShardCounts } from './queue-registry.ts';

/** Producer-side handles on every registered queue, sharing one connection. */
export interface QueueSet {
  /** An unsharded queue; a sharded one (location) throws: pick its shard with {@link QueueSet.shard}. */
  get(id: QueueId): Queue;
  /** The shard of a sharded queue that `key` (e.g. a rider id) belongs to; the queue itself if unsharded. */
  shard(id: QueueId, key: string): Queue;
  /** Every BullMQ queue of `id`: its shards in order, or just the queue. */
  shards(id: QueueId): Array<QueueShard & { queue: Queue }>;
  /** Every BullMQ queue, shards included (Bull Board, metrics, the ops map). */
  all(): Array<QueueShard & { queue: Queue }>;
  close(): Promise<void>;
}

export function createQueues(options: { connection: Redis; prefix: string; shards: QueueShardCounts }): QueueSet {
  const byId = new Map<QueueId, Array<QueueShard & { queue: Queue }>>();
  for (const shard of queueShards(options.shards)) {
    const queue = new Queue(shard.name, {
      connection: options.connection,
      prefix: options.prefix,
      defaultJobOptions: QUEUES[shard.id].defaultJobOptions,
    });
    // Without a listener an 'error' event would crash the process; connection trouble is
    // already logged by the connection itself.
    queue.on('error', () => {});
    byId.set(shard.id, [...(byId.get(shard.id) ?? []), { ...shard, queue }]);
  }
  const shardsOf = (id: QueueId) => {
    const list = byId.get(id);
    if (!list) throw new Error(`unknown queue "${id}"`);
    return list;
  };
  return {
    get(id) {
      const list = shardsOf(id);
      if (list.length > 1 || QUEUES[id].name !== list[0]!.name) throw new Error(`queue "${id}" is sharded: use shard(id, key) or shards(id)`);
      return list[0]!.queue;
    },
    shard(id, key) {
      const list = shardsOf(id);
      return list[shardIndex(key, list.length)]!.queue;
    },
    shards: (id) => shardsOf(id),
    all: () => [...byId.values()].flat(),
    async close() {
      await Promise.all([...byId.values()].flat().map((s) => s.queue.close()));
    },
  };
}
