import type { Redis } from 'ioredis';
import { createDb, type Knex } from '../db/knex.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { createQueues, type QueueSet } from './queues.ts';
import { allowCrossSlotPipelines } from './redis-cluster.ts';
import { createRedis } from './redis.ts';
import type { ServiceUrls } from './services.ts';
import type { Releasers } from './shutdown.ts';

/** The shared connections of one process, handed explicitly to the API, pools and schedulers. */
export interface Platform {
  config: Config;
  logger: Logger;
  /** Fail-fast connection for requests and producers. */
  redis: Redis;
  db: Knex;
  queues: QueueSet;
  /** Blocking-safe connection for BullMQ workers; opened on first use. */
  workerConnection(): Redis;
  /** A connection in subscriber mode, for streams to clients; opened on first use. */
  subscriber(): Redis;
}

export function connectPlatform(options: {
  config: Config;
  logger: Logger;
  urls: ServiceUrls;
  releasers: Releasers;
}): Platform {
  const { config, logger, urls, releasers } = options;
  const db = createDb({ url: urls.databaseUrl, schema: config.databaseSchema, poolMax: config.databasePoolMax, logger });
  releasers.add('postgres pool', () => db.destroy());
  // deligo's pipelines touch many riders' and cells' keys at once; on a cluster they are split per node.
  // Auto-pipelined: the commands many concurrent jobs or requests issue in one turn of the event
  // loop go out in one write instead of a system call each (a worker profile of dispatch at a hot
  // spot spent a fifth of its busy time in socket writes).
  const redis = allowCrossSlotPipelines(createRedis(urls.redisUrl, 'producer', logger, { autoPipelining: config.redisAutoPipelining }));
  releasers.add('redis (producer)', () => redis.quit().catch(() => redis.disconnect()));
  // BullMQ defines its ~50 Lua scripts as commands on the connection it is given, and ioredis
  // copies every one of them into each pipeline made on that connection: the queues get their
  // own, so deligo's pipelines (several per location batch, one per turn of tracking reads) stay cheap.
  const queueConnection = createRedis(urls.redisUrl, 'producer', logger);
  releasers.add('redis (queues)', () => queueConnection.quit().catch(() => queueConnection.disconnect()));
  const queues = createQueues({ connection: queueConnection, prefix: config.queuePrefix, shards: config.queueShards });
  releasers.add('queues', () => queues.close());
  let worker: Redis | undefined;
  let subscriber: Redis | undefined;
  return {
    config,
    logger,
    redis,
    db,
    queues,
    workerConnection() {
      if (!worker) {
        const connection = createRedis(urls.redisUrl, 'worker', logger);
        // Registered now, so it is released after the workers that use it (reverse order).
        releasers.add('redis (workers)', () => connection.quit().catch(() => connection.disconnect()));
        worker = connection;
      }
      return worker;
    },
    subscriber() {
      if (!subscriber) {
        // Subscribers wait for messages for ever: the worker profile (no per-request retries).
        const connection = createRedis(urls.redisUrl, 'worker', logger);
        releasers.add('redis (subscriber)', () => connection.quit().catch(() => connection.disconnect()));
        subscriber = connection;
      }
      return subscriber;
    },
  };
}
