import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import { freePort, localSocket, reclaimStale, spawnManaged, type ManagedProcess } from './processes.ts';

export interface EmbeddedRedis {
  url: string;
  stop(): Promise<void>;
}

export class MissingBinaryError extends Error {
  override name = 'MissingBinaryError';
}

/**
 * The server settings deligo relies on, embedded or deployed (docker-compose.yml passes the same).
 */
export const DURABLE_REDIS_SETTINGS: Readonly<Record<string, string>> = {
  // Acknowledged location points and queued jobs survive a crash, losing at most a second.
  appendonly: 'yes',
  appendfsync: 'everysec',
  // A rewrite forks a child that writes the whole dataset out again, on the same cores as the
  // server. At a hot spot the append-only file grows a few MB a second, and Redis's default
  // (rewrite once the file doubles, from 64 MB) forked every 20 s or so: in bench/dispatch five
  // rewrites in 90 s took most of the CPU outside deligo's own processes. From 1 GB, a peak
  // rewrites every few minutes; a restart replays at most that much (seconds on an SSD).
  'auto-aof-rewrite-min-size': '1gb',
  // Redis refuses writes rather than silently dropping queued jobs (the workers check this at start).
  'maxmemory-policy': 'noeviction',
};

/**
 * Starts a private redis-server with the settings deligo relies on:
 * AOF with fsync every second (acknowledged location points survive a crash) and
 * `noeviction` (Redis refuses writes rather than dropping queued jobs).
 */
export async function startEmbeddedRedis(options: {
  dir: string;
  logger: Logger;
  port?: number;
  /** Skip fsync entirely; only for throwaway test data. Default false. */
  ephemeral?: boolean;
  /** More redis-server arguments, e.g. cluster mode (tests/support/redis-cluster.ts). Default none. */
  extraArgs?: string[];
}): Promise<EmbeddedRedis> {
  const binary = ensureRedisServer(options.logger);
  await fs.mkdir(options.dir, { recursive: true });
  const pidFile = path.join(options.dir, 'redis.pid');
  await reclaimStale(pidFile, 'redis-server', options.logger);
  const port = options.port ?? (await freePort());
  const socket = localSocket(path.resolve(options.dir, 'redis.sock'));
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', options.dir,
    '--pidfile', pidFile,
    '--daemonize', 'no',
    ...Object.entries(DURABLE_REDIS_SETTINGS).flatMap(([name, value]) => [`--${name}`, name === 'appendfsync' && options.ephemeral ? 'no' : value]),
    '--save', '',
    '--logfile', '',
    ...(socket ? ['--unixsocket', socket, '--unixsocketperm', '700'] : []),
    ...(options.extraArgs ?? []),
  ];
  const proc = spawnManaged(binary, args, { logger: options.logger, name: 'redis' });
  // ioredis takes `path` from the query and connects there; the host and port stay for anything
  // that reads the URL for them (and for redis-cli -p).
  const url = `redis://127.0.0.1:${port}${socket ? `?path=${encodeURIComponent(socket)}` : ''}`;
  await waitUntilPings(url, proc);
  options.logger.debug({ url, pid: proc.pid }, 'embedded redis ready');
  return { url, stop: () => proc.stop('SIGTERM') };
}

async function waitUntilPings(url: string, proc: ManagedProcess, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void proc.exited.then(() => (exited = true));
  while (Date.now() < deadline && !exited) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      client.disconnect();
    }
  }
  throw new Error(exited ? 'redis-server exited during start-up (run with LOG_LEVEL=debug to see why)' : 'redis-server did not answer within 15 s');
}

/** Finds redis-server, installing Debian's package when we may; otherwise says what to install. */
export function ensureRedisServer(logger: Logger): string {
  const found = which('redis-server');
  if (found) return found;
  const debian = spawnSync('sh', ['-c', 'test -f /etc/debian_version']).status === 0;
  const root = process.getuid?.() === 0;
  if (!debian || !root) {
    throw new MissingBinaryError(
      'redis-server not found on PATH: install Redis 7+ (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or set REDIS_URL',
    );
  }
  logger.info('redis-server not found; installing the Debian package redis-server');
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '-qq', 'redis-server'], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    }).status === 0;
  if (!install()) {
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
    if (!install()) throw new MissingBinaryError('apt-get install redis-server failed: install it by hand or set REDIS_URL');
  }
  const installed = which('redis-server');
  if (!installed) throw new MissingBinaryError('redis-server is still missing after installing it: set REDIS_URL');
  return installed;
}

function which(binary: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}
