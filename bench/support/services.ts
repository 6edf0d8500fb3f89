import type { Knex } from 'knex';
import fs from 'node:fs/promises';
import type { Redis } from 'ioredis';
import os from 'node:os';
import path from 'node:path';
import { migrateLatest } from '../../db/knex.ts';
import { loadConfig } from '../../runtime/config.ts';
import { startEmbeddedPostgres } from '../../runtime/embedded/postgres-server.ts';
import { startEmbeddedRedis } from '../../runtime/embedded/redis-server.ts';
import { createLogger } from '../../runtime/logger.ts';
import { connectPlatform, type Platform } from '../../runtime/platform.ts';
import { Releasers } from '../../runtime/shutdown.ts';

export interface BenchServices {
  platform: Platform;
  releasers: Releasers;
  urls: { redisUrl: string; databaseUrl: string };
  stop(): Promise<void>;
}

/**
 * Redis and Postgres with deligo's production settings (AOF everysec, fsync on), started fresh
 * for one benchmark run, plus a platform connected to them.
 */
export async function startBenchServices(env: Record<string, string> = {}): Promise<BenchServices> {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', name: 'bench' });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'deligo-bench-'));
  await fs.chmod(dir, 0o755);
  const redis = await startEmbeddedRedis({ dir: path.join(dir, 'redis'), logger });
  // BENCH_PG_STATEMENTS=1: Postgres counts every statement (pg_stat_statements; see pgStatements).
  const statements = process.env.BENCH_PG_STATEMENTS === '1' ? { settings: { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all', 'pg_stat_statements.track_planning': 'on' } } : {};
  // BENCH_PG_SETTINGS='{"name":"value"}': more server settings for a diagnosis (auto_explain, logging).
  const extra = process.env.BENCH_PG_SETTINGS ? (JSON.parse(process.env.BENCH_PG_SETTINGS) as Record<string, string>) : {};
  const settings = { ...statements.settings, ...extra };
  if (statements.settings && extra.shared_preload_libraries) settings.shared_preload_libraries = `${statements.settings.shared_preload_libraries},${extra.shared_preload_libraries}`;
  const pg = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), logger, ephemeral: process.env.BENCH_EPHEMERAL === '1', settings });
  const urls = { redisUrl: redis.url, databaseUrl: pg.url };
  const config = loadConfig({ NODE_ENV: 'test', REDIS_URL: redis.url, DATABASE_URL: pg.url, LOG_LEVEL: 'warn', ...env });
  const releasers = new Releasers(logger);
  const platform = connectPlatform({ config, logger, urls, releasers });
  await migrateLatest(platform.db, config.databaseSchema);
  return {
    platform,
    releasers,
    urls,
    async stop() {
      await releasers.releaseAll();
      await pg.stop();
      await redis.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * With BENCH_PG_STATEMENTS=1: Postgres's statements since `reset` (call it to start), the costliest
 * first: calls, total execution time and rows, and the statement's start. Otherwise undefined.
 */
export async function pgStatements(db: Knex, reset = false): Promise<Array<{ calls: number; ms: number; planMs: number; rows: number; query: string }> | undefined> {
  if (process.env.BENCH_PG_STATEMENTS !== '1') return undefined;
  await db.raw('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  if (reset) return void (await db.raw('SELECT pg_stat_statements_reset()'));
  const { rows } = await db.raw(
    `SELECT calls::int, round(total_exec_time + total_plan_time)::int AS ms, round(total_plan_time)::int AS "planMs", rows::int, regexp_replace(left(query, 110), '[[:space:]]+', ' ', 'g') AS query
       FROM pg_stat_statements WHERE query NOT ILIKE '%pg_stat_statements%' ORDER BY total_exec_time + total_plan_time DESC LIMIT 25`,
  );
  return rows;
}

/** Machine facts printed with every result. */
export function machine(): string {
  const cpu = os.cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown cpu';
  return `${os.cpus().length} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`;
}

/**
 * Waits until Redis is not rewriting its AOF or saving a snapshot. Loading a benchmark's data set
 * starts a rewrite in a forked child; measuring during it times the fork and the disk, not deligo.
 */
export async function redisSettled(redis: Redis): Promise<void> {
  while (/(aof_rewrite|rdb_bgsave)_in_progress:1/.test(await redis.info('persistence'))) await new Promise((r) => setTimeout(r, 200));
}
