import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.ts';

/**
 * Who a connection serves decides how it behaves when Redis is away:
 * - `producer` (API, CLI): fails fast, so a request gets 503 instead of hanging;
 * - `worker` (BullMQ workers, blocking reads): waits and retries for ever, as BullMQ requires.
 */
export type ConnectionRole = 'producer' | 'worker';

export function createRedis(url: string, role: ConnectionRole, logger: Logger): Redis {
  const options: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 };
  const redis = new Redis(url, {
    ...options,
    lazyConnect: false,
    // Reconnect with a capped backoff; the process stays up and recovers when Redis returns.
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
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

export async function assertNoEviction(redis: Redis): Promise<void> {
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
