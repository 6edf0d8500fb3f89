import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from './config.ts';
import { startEmbeddedPostgres } from './embedded/postgres-server.ts';
import { startEmbeddedRedis } from './embedded/redis-server.ts';
import type { Logger } from './logger.ts';
import type { Releasers } from './shutdown.ts';

export interface ServiceUrls {
  redisUrl: string;
  databaseUrl: string;
}

/**
 * The Redis and Postgres this process uses: the configured URLs, or private servers started
 * under DATA_DIR when a URL is missing. Embedded servers are released (stopped) last.
 */
export async function provideServices(options: {
  config: Config;
  logger: Logger;
  releasers: Releasers;
  /** Trade durability for speed; for tests only. */
  ephemeral?: boolean;
}): Promise<ServiceUrls & { embedded: boolean }> {
  const { config, logger, releasers } = options;
  // A second process on a developer's machine (another worker pool, the CLI) joins the
  // servers that `npm start` already runs instead of starting its own.
  const running = config.redisUrl && config.databaseUrl ? undefined : await readServicesFile(config.dataDir);
  let redisUrl = config.redisUrl ?? running?.redisUrl;
  let databaseUrl = config.databaseUrl ?? running?.databaseUrl;
  if (!redisUrl) {
    const redis = await startEmbeddedRedis({ dir: path.join(config.dataDir, 'redis'), logger, ephemeral: options.ephemeral });
    releasers.add('embedded redis', () => redis.stop());
    redisUrl = redis.url;
  }
  if (!databaseUrl) {
    const pg = await startEmbeddedPostgres({ dir: path.join(config.dataDir, 'pg'), logger, ephemeral: options.ephemeral });
    releasers.add('embedded postgres', () => pg.stop());
    databaseUrl = pg.url;
  }
  return { redisUrl, databaseUrl, embedded: !config.redisUrl || !config.databaseUrl };
}

/**
 * While `npm start` runs, the CLI in another terminal finds its embedded servers here
 * (their ports are chosen at start-up).
 */
export interface RunningServices extends ServiceUrls {
  apiUrl?: string;
  pid: number;
}

export function servicesFile(dataDir: string): string {
  return path.join(dataDir, 'services.json');
}

export async function writeServicesFile(dataDir: string, running: RunningServices): Promise<void> {
  await fs.mkdir(dataDir, { recursive: true });
  await fs.writeFile(servicesFile(dataDir), JSON.stringify(running, null, 2) + '\n', { mode: 0o600 });
}

export async function readServicesFile(dataDir: string): Promise<RunningServices | undefined> {
  try {
    const running = JSON.parse(await fs.readFile(servicesFile(dataDir), 'utf8')) as RunningServices;
    process.kill(running.pid, 0);
    return running;
  } catch {
    return undefined;
  }
}

export async function removeServicesFile(dataDir: string): Promise<void> {
  await fs.rm(servicesFile(dataDir), { force: true });
}
