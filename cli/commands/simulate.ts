import { InvalidArgumentError, Option, type Command } from 'commander';
import { readServicesFile } from '../../runtime/services.ts';
import { CliError, parsePositiveInt, type CliContext } from '../connect.ts';
import { HOTSPOTS } from '../simulate/hotspots.ts';
import { parseDuration } from './jobs-replay.ts';

interface SimulateOptions {
  riders: number;
  ordersPerMin: number;
  hotspot?: string;
  duration: number;
  api?: string;
  seed?: number;
  acceptRate: number;
  rejectRate: number;
  cookSeconds: number;
}

/**
 * `deligo simulate --riders N --orders-per-min M [--hotspot gangnam] [--duration 5m]`: a fleet,
 * its customers and restaurants driving a running deligo through the real HTTP API, for demos
 * and load tests. The live line goes to stderr, the summary to stdout.
 */
export function defineSimulateCommand(parent: Command, context: () => CliContext): void {
  parent
    .command('simulate')
    .description('drive a running deligo with simulated riders, customers and restaurants')
    .requiredOption('--riders <n>', 'riders on shift', parsePositiveInt)
    .requiredOption('--orders-per-min <m>', 'orders placed per minute (a Poisson process)', parseRate)
    .addOption(new Option('--hotspot <area>', 'put most riders and orders in one area').choices(Object.keys(HOTSPOTS)))
    .addOption(new Option('--duration <time>', 'how long to run, such as 90s, 5m or 1h').argParser(parseDuration).default(5 * 60_000, '5m'))
    .option('--api <url>', 'the API to drive (default: the running `npm start`, else http://localhost:PORT)', parseUrl)
    .option('--seed <n>', 'replay the same choices', parsePositiveInt)
    .option('--accept-rate <p>', 'share of offers riders accept', parseShare, 0.75)
    .option('--reject-rate <p>', 'share of offers riders reject; the rest time out', parseShare, 0.1)
    .option('--cook-seconds <s>', 'real seconds per announced minute of cooking', parseRate, 2)
    .action(async (options: SimulateOptions) => {
      const { config } = context();
      if (options.acceptRate + options.rejectRate > 1) throw new CliError('--accept-rate plus --reject-rate must be at most 1', 2);
      const baseUrl = options.api ?? (await readServicesFile(config.dataDir))?.apiUrl ?? `http://localhost:${config.http.port}`;
      const tty = process.stderr.isTTY;
      const stop = new AbortController();
      // Ctrl-C ends the run early; it still cleans up and prints the summary. A second one quits.
      process.once('SIGINT', () => stop.abort());
      process.stderr.write(`simulating ${options.riders} riders and ${options.ordersPerMin} orders/min${options.hotspot ? ` around ${options.hotspot}` : ''} against ${baseUrl}\n`);
      let last = 0;
      // Loaded on use: every other command starts without the simulator's modules.
      const { runSimulation, SimulationError } = await import('../simulate/simulation.ts');
      try {
        const result = await runSimulation({
          baseUrl,
          secret: config.jwt.secret,
          riders: options.riders,
          ordersPerMinute: options.ordersPerMin,
          hotspot: options.hotspot ?? null,
          durationMs: options.duration,
          seed: options.seed,
          offers: { accept: options.acceptRate, reject: options.rejectRate },
          cookSecondsPerMinute: options.cookSeconds,
          signal: stop.signal,
          onProgress(line) {
            // A terminal gets one line rewritten in place; a log file gets a line every 10 s.
            if (tty) process.stderr.write(`\r\x1b[2K${line}`);
            else if (Date.now() - last >= 10_000) {
              last = Date.now();
              process.stderr.write(`${line}\n`);
            }
          },
        });
        if (tty) process.stderr.write('\n');
        process.stdout.write(`${result.summary}\n`);
      } catch (err) {
        if (err instanceof SimulationError) throw new CliError(err.message);
        throw err;
      }
    });
}

function parseRate(input: string): number {
  const n = Number(input);
  if (!/^\d+(\.\d+)?$/.test(input) || !Number.isFinite(n) || n < 0 || n > 100_000) throw new InvalidArgumentError('expected a number from 0 to 100000');
  return n;
}

function parseShare(input: string): number {
  const n = Number(input);
  if (!/^(0(\.\d+)?|1(\.0+)?)$/.test(input)) throw new InvalidArgumentError('expected a share from 0 to 1, such as 0.75');
  return n;
}

function parseUrl(input: string): string {
  try {
    const url = new URL(input);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
    return url.origin;
  } catch {
    throw new InvalidArgumentError('expected an http(s) URL such as http://localhost:3000');
  }
}
