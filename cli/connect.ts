import { InvalidArgumentError } from 'commander';
import type { Redis } from 'ioredis';
import path from 'node:path';
import { pino } from 'pino';
import { createDb, type Knex } from '../db/knex.ts';
import type { Config } from '../runtime/config.ts';
import type { Logger } from '../runtime/logger.ts';
import { displayName, QUEUE_IDS, resolveQueueIds, type QueueId } from '../runtime/queue-registry.ts';
import { createQueues, type QueueSet } from '../runtime/queues.ts';
import { clusterNodes } from '../runtime/redis-cluster.ts';
import { createRedis } from '../runtime/redis.ts';
import { startEmbeddedPostgres } from '../runtime/embedded/postgres-server.ts';
import { readServicesFile } from '../runtime/services.ts';
import type { Releasers } from '../runtime/shutdown.ts';

/**
 * A failure the person at the terminal can act on. `main` prints it as one line, without a
 * stack, and exits with `exitCode`. Bad usage is caught earlier by commander and exits 2.
 */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Everything a command gets from `main`: settings, a stderr logger, and what to release on exit. */
export interface CliContext {
  config: Config;
  logger: Logger;
  releasers: Releasers;
}

/**
 * Logs go to stderr, so stdout carries only a command's answer (a token, JSON, a table).
 * Quiet unless LOG_LEVEL is set explicitly: the CLI reports its own errors as one line.
 */
export function cliLogger(config: Config, levelSet: boolean): Logger {
  return pino({ name: 'deligo-cli', level: levelSet ? config.logLevel : 'silent' }, pino.destination(2));
}

/** REDIS_URL, else the Redis of a running `npm start`. */
export async function resolveRedisUrl(config: Config): Promise<string> {
  const url = config.redisUrl ?? (await readServicesFile(config.dataDir))?.redisUrl;
  if (!url) throw new CliError('no Redis to talk to: run `npm start` in another terminal, or set REDIS_URL');
  return url;
}

/** DATABASE_URL, else the Postgres of a running `npm start`; undefined when there is neither. */
export async function findDatabaseUrl(config: Config): Promise<string | undefined> {
  return config.databaseUrl ?? (await readServicesFile(config.dataDir))?.databaseUrl;
}

/**
 * Postgres for commands that may run before anything else is up (migrate, seed): DATABASE_URL,
 * else the running `npm start`, else the embedded Postgres under DATA_DIR, started for this run.
 */
export async function openDbOrEmbedded(ctx: CliContext): Promise<{ db: Knex; url: string }> {
  let url = await findDatabaseUrl(ctx.config);
  if (!url) {
    const dir = path.join(ctx.config.dataDir, 'pg');
    process.stderr.write(`no DATABASE_URL and no running \`npm start\`: using embedded Postgres in ${dir}\n`);
    const pg = await startEmbeddedPostgres({ dir, logger: ctx.logger });
    ctx.releasers.add('embedded postgres', () => pg.stop());
    url = pg.url;
  }
  return { db: openDb(ctx, url), url };
}

/** A knex pool that is destroyed when the command ends. */
export function openDb(ctx: CliContext, url: string): Knex {
  const db = createDb({ url, poolMax: 2, schema: ctx.config.databaseSchema });
  ctx.releasers.add('postgres pool', () => db.destroy());
  return db;
}

/** One queue picked by `--queue`, with the name people read. */
export interface QueueTarget {
  id: QueueId;
  label: string;
}

/** commander parser for `--queue`: an id, a bare or tagged name, a group such as `notifications`, or `all`. */
export function parseQueueOption(input: string): QueueTarget[] {
  const ids = input === 'all' ? QUEUE_IDS : resolveQueueIds(input);
  if (ids.length === 0) {
    throw new InvalidArgumentError(`unknown queue; expected one of ${QUEUE_IDS.map(displayName).join(', ')}, notifications (all channels), or all`);
  }
  return ids.map((id) => ({ id, label: displayName(id) }));
}

/** commander parser for counts such as `--limit`. */
export function parsePositiveInt(input: string): number {
  const n = Number(input);
  if (!/^\d+$/.test(input) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

/** Producer handles on every queue, over one fail-fast connection that is ready before use. */
export async function openQueues(ctx: CliContext): Promise<QueueSet> {
  const url = await resolveRedisUrl(ctx.config);
  const redis = createRedis(url, 'producer', ctx.logger);
  ctx.releasers.add('redis', () => redis.quit().catch(() => redis.disconnect()));
  try {
    await firstConnection(redis);
  } catch (err) {
    const why = (err as Error).message;
    const setting = clusterNodes(url) ? 'REDIS_CLUSTER_NODES' : 'REDIS_URL';
    throw new CliError(`cannot reach Redis at ${safeUrl(url)} (${why}): is \`npm start\` running, or is ${setting} right?`);
  }
  const queues = createQueues({ connection: redis, prefix: ctx.config.queuePrefix, shards: ctx.config.queueShards });
  // Registered after Redis, so queues close first (releasers run in reverse).
  ctx.releasers.add('queues', () => queues.close());
  return queues;
}

/**
 * A person is waiting: the first refused or timed-out attempt (connectTimeout) is the answer,
 * not a round of retries. No timer of its own, so nothing lingers after a failure.
 */
function firstConnection(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const settle = (err?: Error) => {
      redis.off('ready', settle);
      redis.off('error', settle);
      if (err) reject(err);
      else resolve();
    };
    redis.on('ready', settle);
    redis.on('error', settle);
  });
}

/** host:port/path of a URL, without credentials, for messages. */
export function safeUrl(url: string): string {
  const nodes = clusterNodes(url);
  if (nodes) return `${nodes.map((n) => `${n.host}:${n.port}`).join(',')} (cluster)`;
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}
