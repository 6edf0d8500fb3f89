import type { Command } from 'commander';
import { migrateLatest } from '../../db/knex.ts';
import { CliError, openDbOrEmbedded, safeUrl, type CliContext } from '../connect.ts';

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
      const { db, url } = await openDbOrEmbedded(ctx);
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
