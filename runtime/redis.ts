import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.ts';
import fs from 'node:fs';
import { clusterTarget, eachMaster, type ClusterAuth } from './redis-cluster.ts';

/**
 * Who a connection serves decides how it behaves when Redis is away:
 * - `producer` (API, CLI): fails fast, so a request gets 503 instead of hanging;
 * - `worker` (BullMQ workers, blocking reads): waits and retries for ever, as BullMQ requires.
 */
export type ConnectionRole = 'producer' | 'worker';

/**
 * `url` is a `redis://` URL, or a `redis-cluster://host:port,…` target (see redis-cluster.ts), for
 * which this returns an ioredis `Cluster`. It answers the same commands, so it is typed as `Redis`.
 */
export function createRedis(url: string, role: ConnectionRole, logger: Logger, extra: { autoPipelining?: boolean } = {}): Redis {
  const options: RedisOptions = {
    ...(role === 'worker' ? { maxRetriesPerRequest: null, enableReadyCheck: true } : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 }),
    ...(extra.autoPipelining && { enableAutoPipelining: true }),
  };
  // Reconnect with a capped backoff; the process stays up and recovers when Redis returns.
  const retryStrategy = (times: number) => Math.min(times * 200, 2_000);
  const cluster = clusterTarget(url);
  const redis = cluster ? createCluster(cluster.nodes, cluster.auth, options, retryStrategy) : new Redis(url, { ...options, lazyConnect: false, retryStrategy });
  let lastError = '';
  redis.on('error', (err: Error) => {
    // ioredis repeats the same error on every retry; log each distinct one once.
    if (err.message === lastError) return;
    lastError = err.message;
    logger.warn({ err: err.message, role }, 'redis connection error');
  });
  redis.on('ready', () => {
    if (lastError) logger.info({ role }, 'redis connection restored');
    lastError = '';
  });
  return redis;
}

/**
 * A cluster client over the seed nodes. The role's options apply to each node's connection except
 * the offline queue: ioredis needs it on the nodes (their connections open lazily), so a producer
 * refuses commands at the cluster level instead while the cluster is not ready.
 * BullMQ needs `maxRetriesPerRequest: null` in `redisOptions` for its workers, which the worker
 * role gives.
 */
function createCluster(nodes: Array<{ host: string; port: number }>, auth: ClusterAuth, options: RedisOptions, retryStrategy: (times: number) => number): Redis {
  const { enableOfflineQueue, enableAutoPipelining: _single, ...redisOptions } = options;
  const cluster = new Cluster(nodes, {
    // No auto-pipelining on a cluster: deligo's cross-slot pipelines (redis-cluster.ts) and scans
    // per master rely on ioredis' own routing of each command.
    // Every node gets the same credentials: the client reaches nodes it learns from CLUSTER SLOTS.
    redisOptions: {
      ...redisOptions,
      ...(auth.username !== undefined && { username: auth.username }),
      ...(auth.password !== undefined && { password: auth.password }),
      ...(auth.tls && { tls: auth.caFile ? { ca: fs.readFileSync(auth.caFile) } : {} }),
    },
    // With TLS, keep the node's name as given (not its resolved address) so the certificate that
    // names the host still matches; managed clusters hand out such names.
    ...(auth.tls && { dnsLookup: (address: string, callback: (err: Error | null, address: string) => void) => callback(null, address) }),
    enableReadyCheck: true,
    enableOfflineQueue: enableOfflineQueue ?? true,
    clusterRetryStrategy: retryStrategy,
    // Writes and reads both go to masters: replicas lag, and deligo reads what it just wrote.
    scaleReads: 'master',
    lazyConnect: false,
  });
  return cluster as unknown as Redis;
}

/** Resolves once the connection is ready, or rejects after `timeoutMs`. */
export async function waitForRedis(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}

/** Workers refuse to start on a Redis that may evict keys: an evicted job is a lost job. */
export class EvictionPolicyError extends Error {
  override name = 'EvictionPolicyError';
}

/** On a cluster every master is asked: one evicting node loses the jobs in its slots. */
export async function assertNoEviction(redis: Redis): Promise<void> {
  for (const node of eachMaster(redis)) await assertNodeNoEviction(node);
}

async function assertNodeNoEviction(redis: Redis): Promise<void> {
  const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
  const policy = reply[1];
  if (policy !== 'noeviction') {
    throw new EvictionPolicyError(
      `redis maxmemory-policy is "${policy}", but deligo workers need "noeviction": ` +
        'with any other policy Redis may silently drop queued jobs and location batches under memory pressure. ' +
        'Run CONFIG SET maxmemory-policy noeviction (and persist it in redis.conf).',
    );
  }
}
