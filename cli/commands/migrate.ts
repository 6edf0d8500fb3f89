import type { Command } from 'commander';
import path from 'node:path';
import { migrateLatest } from '../../db/knex.ts';
import { startEmbeddedPostgres } from '../../runtime/embedded/postgres-server.ts';
import { CliError, findDatabaseUrl, openDb, safeUrl, type CliContext } from '../connect.ts';

/**
 * `deligo migrate`: applies pending migrations to DATABASE_URL or the running `npm start`.
 * With neither, it starts the embedded Postgres under DATA_DIR just for this run, so a fresh
 * checkout can be migrated before anything else is up.
 */
export function defineMigrateCommand(parent: Command, context: () => CliContext): void {
  parent
    .command('migrate')
    .description('apply pending database migrations')
    .action(async () => {
      const ctx = context();
      let url = await findDatabaseUrl(ctx.config);
      if (!url) {
        const dir = path.join(ctx.config.dataDir, 'pg');
        process.stderr.write(`no DATABASE_URL and no running \`npm start\`: using embedded Postgres in ${dir}\n`);
        const pg = await startEmbeddedPostgres({ dir, logger: ctx.logger });
        ctx.releasers.add('embedded postgres', () => pg.stop());
        url = pg.url;
      }
      const db = openDb(ctx, url);
      let applied: string[];
      try {
        applied = await migrateLatest(db, ctx.config.databaseSchema);
      } catch (err) {
        throw new CliError(`cannot migrate ${safeUrl(url)}: ${(err as Error).message}`);
      }
      if (applied.length === 0) process.stdout.write('already up to date\n');
      for (const name of applied) process.stdout.write(`applied ${name}\n`);
    });
}
