import knexFactory, { type Knex } from 'knex';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../runtime/logger.ts';

export type { Knex };

const migrationsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface DbOptions {
  url: string;
  /** Postgres schema for every table; tests give each run its own. Default `public`. */
  schema?: string;
  /** Pool size. Default 10. */
  poolMax?: number;
  /** Where knex's own warnings go; otherwise it writes to the console. */
  logger?: Logger;
}

export function createDb(options: DbOptions): Knex {
  const schema = options.schema ?? 'public';
  return knexFactory({
    client: 'pg',
    connection: { connectionString: options.url, connectionTimeoutMillis: 3_000 },
    searchPath: [schema],
    pool: { min: 0, max: options.poolMax ?? 10 },
    // A request never waits long for a connection: it gets 503 instead.
    acquireConnectionTimeout: 5_000,
    ...(options.logger && { log: knexLog(options.logger) }),
    migrations: { directory: migrationsDir, loadExtensions: ['.ts'], schemaName: schema, tableName: 'knex_migrations' },
  });
}

/** Applies every pending migration; safe to run from several processes at once (knex takes a lock). */
export async function migrateLatest(db: Knex, schema = 'public'): Promise<string[]> {
  await db.raw('CREATE SCHEMA IF NOT EXISTS ??', [schema]);
  const [, applied] = (await db.migrate.latest()) as [number, string[]];
  return applied;
}

function knexLog(logger: Logger): Knex.Config['log'] {
  const log = logger.child({ component: 'knex' });
  const text = (message: unknown) => (message instanceof Error ? message.message : String(message));
  return {
    warn: (m: unknown) => log.warn(text(m)),
    error: (m: unknown) => log.error(text(m)),
    deprecate: (m: unknown) => log.debug(text(m)),
    debug: (m: unknown) => log.debug(text(m)),
  };
}
