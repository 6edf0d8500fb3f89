/**
 * `deligo …`: the operations CLI. This file only wires commands together and turns failures
 * into one line on stderr and an exit code; each command lives in cli/commands/.
 *
 * Exit codes: 0 done, 1 failed, 2 bad usage, 78 bad configuration (as the long-running processes).
 */
import { Command, CommanderError } from 'commander';
import path from 'node:path';
import { ConfigError, loadConfig } from '../runtime/config.ts';
import { Releasers } from '../runtime/shutdown.ts';
import { defineJobsListCommand } from './commands/jobs-list.ts';
import { defineJobsReplayCommand } from './commands/jobs-replay.ts';
import { defineMigrateCommand } from './commands/migrate.ts';
import { defineSeedCommand } from './commands/seed.ts';
import { defineSimulateCommand } from './commands/simulate.ts';
import { defineTokenCommand } from './commands/token.ts';
import { CliError, cliLogger, type CliContext } from './connect.ts';

// `npm start` keeps .data at the project root; the CLI finds it there from any directory.
const root = path.resolve(import.meta.dirname, '..');

let ctx: CliContext | undefined;
/** Config is read on first use, so `--help` works even when the environment is wrong. */
function context(): CliContext {
  if (!ctx) {
    const config = loadConfig(process.env, root);
    const logger = cliLogger(config, Boolean(process.env.LOG_LEVEL));
    ctx = { config, logger, releasers: new Releasers(logger) };
  }
  return ctx;
}

const program = new Command('deligo')
  .description('deligo operations: tokens, migrations and BullMQ jobs')
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'deligo: ')) });

defineTokenCommand(program, context);
defineMigrateCommand(program, context);
defineSeedCommand(program, context);
defineSimulateCommand(program, context);
const jobs = program.command('jobs').description('inspect and replay BullMQ jobs');
defineJobsListCommand(jobs, context);
defineJobsReplayCommand(jobs, context);

process.exitCode = await run();
// Everything is released by now; this only stops a handle that will not let go from hanging the shell.
setTimeout(() => process.exit(), 1_000).unref();

async function run(): Promise<number> {
  try {
    await program.parseAsync(process.argv);
    return 0;
  } catch (err) {
    return report(err);
  } finally {
    await ctx?.releasers.releaseAll();
  }
}

function report(err: unknown): number {
  // commander has already printed its own message (or the help it was asked for).
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`deligo: ${message.split('\n', 1)[0]}\n`);
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof ConfigError) return 78;
  return 1;
}
