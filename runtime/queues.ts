import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_IDS, QUEUES, type QueueId } from './queue-registry.ts';

/** Producer-side handles on every registered queue, sharing one connection. */
export interface QueueSet {
  get(id: QueueId): Queue;
  all(): Array<{ id: QueueId; queue: Queue }>;
  close(): Promise<void>;
}

export function createQueues(options: { connection: Redis; prefix: string }): QueueSet {
  const queues = new Map<QueueId, Queue>();
  for (const id of QUEUE_IDS) {
    const def = QUEUES[id];
    const queue = new Queue(def.name, {
      connection: options.connection,
      prefix: options.prefix,
      defaultJobOptions: def.defaultJobOptions,
    });
    // Without a listener an 'error' event would crash the process; connection trouble is
    // already logged by the connection itself.
    queue.on('error', () => {});
    queues.set(id, queue);
  }
  return {
    get(id) {
      const queue = queues.get(id);
      if (!queue) throw new Error(`unknown queue "${id}"`);
      return queue;
    },
    all: () => [...queues].map(([id, queue]) => ({ id, queue })),
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()));
    },
  };
}
