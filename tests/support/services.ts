import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { migrateLatest } from '../../db/knex.ts';
import { loadConfig, type Config } from '../../runtime/config.ts';
import { createLogger, type Logger } from '../../runtime/logger.ts';
import { connectPlatform, type Platform } from '../../runtime/platform.ts';
import { redisEnv, scanKeys } from '../../runtime/redis-cluster.ts';
import type { ServiceUrls } from '../../runtime/services.ts';
import { Releasers } from '../../runtime/shutdown.ts';

/** The Redis (or Redis Cluster, `npm run test:cluster`) and Postgres that `tests/run.ts` started for this run. */
export function testUrls(): ServiceUrls {
  const redisUrl = process.env.TEST_REDIS_URL;
  const databaseUrl = process.env.TEST_DATABASE_URL;
  if (!redisUrl || !databaseUrl) throw new Error('run tests with `npm test`: it starts the Redis and Postgres they use');
  return { redisUrl, databaseUrl };
}

export interface TestPlatform extends Platform {
  /** Unique per test: BullMQ key prefix and Postgres schema. */
  prefix: string;
  schema: string;
  /** Env that points a child process at this platform's Redis prefix and Postgres schema. */
  childEnv: Record<string, string>;
  urls: ServiceUrls;
  releasers: Releasers;
  /** Closes connections, drops the schema and deletes every key under the prefix. */
  cleanup(): Promise<void>;
}

export function testLogger(): Logger {
  return createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', name: 'test' });
}

/** A platform isolated from every other test: its own queue prefix and its own migrated schema. */
export async function createTestPlatform(env: NodeJS.ProcessEnv = {}): Promise<TestPlatform> {
  const id = randomUUID().replaceAll('-', '').slice(0, 12);
  const prefix = `test-${id}`;
  const schema = `t_${id}`;
  const urls = testUrls();
  const config: Config = loadConfig({ NODE_ENV: 'test', QUEUE_PREFIX: prefix, DATABASE_SCHEMA: schema, ...redisEnv(urls.redisUrl), DATABASE_URL: urls.databaseUrl, ...env });
  const logger = testLogger();
  const releasers = new Releasers(logger);
  const platform = connectPlatform({ config, logger, urls, releasers });
  await migrateLatest(platform.db, config.databaseSchema);
  const { redis } = platform;
  return {
    ...platform,
    prefix: config.queuePrefix,
    schema: config.databaseSchema,
    urls,
    childEnv: { ...redisEnv(urls.redisUrl), DATABASE_URL: urls.databaseUrl, QUEUE_PREFIX: config.queuePrefix, DATABASE_SCHEMA: config.databaseSchema },
    releasers,
    async cleanup() {
      await deleteKeys(redis, `${config.queuePrefix}:*`).catch(() => {});
      await platform.db.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [config.databaseSchema]).catch(() => {});
      await releasers.releaseAll();
    },
  };
}

/** Deletes every key matching `pattern`, on every master of a cluster (one key per UNLINK: keys span slots). */
export async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  for await (const keys of scanKeys(redis, pattern, 500)) {
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.unlink(key);
    await pipeline.exec();
  }
}

/** Polls until `check` returns a truthy value, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
