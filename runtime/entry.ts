import { migrateLatest } from '../db/knex.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createLogger, type Logger } from './logger.ts';
import { connectPlatform, type Platform } from './platform.ts';
import { provideServices, type ServiceUrls } from './services.ts';
import { exitOnSignals, Releasers } from './shutdown.ts';

export interface EntryContext {
  config: Config;
  logger: Logger;
  urls: ServiceUrls & { embedded: boolean };
  platform: Platform;
  releasers: Releasers;
}

/**
 * The shared start-up of every long-running process: config, signals, services, migrations,
 * connections. Only entry points call this; it is where env is read and signals are handled.
 */
export async function runEntry(name: string, start: (ctx: EntryContext) => Promise<void>): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`deligo ${name}: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel, name: `deligo-${name}` });
  const releasers = new Releasers(logger);
  exitOnSignals(releasers, logger, config.shutdownTimeoutMs);
  try {
    const urls = await provideServices({ config, logger, releasers });
    const platform = connectPlatform({ config, logger, urls, releasers });
    // Every process migrates; knex's lock makes concurrent runs safe and later ones no-ops.
    const applied = await migrateLatest(platform.db, config.databaseSchema);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    await start({ config, logger, urls, platform, releasers });
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, `deligo ${name} could not start`);
    process.stderr.write(`deligo ${name}: ${(err as Error).message}\n`);
    await releasers.releaseAll();
    process.exit(1);
  }
}
