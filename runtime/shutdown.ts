import type { Logger } from './logger.ts';

/** Something to undo at shutdown, named for the log. */
interface Releaser {
  name: string;
  release: () => Promise<unknown> | unknown;
}

/**
 * Collects what a process acquires and releases it in reverse order:
 * the API stops taking requests before workers close, workers before queues,
 * queues before Redis and Postgres, and embedded servers last.
 */
export class Releasers {
  private readonly stack: Releaser[] = [];
  private running?: Promise<void>;

  constructor(private readonly logger: Logger) {}

  add(name: string, release: Releaser['release']): void {
    this.stack.push({ name, release });
  }

  /** Releases everything once; later calls wait for the same run. */
  releaseAll(): Promise<void> {
    this.running ??= this.run();
    return this.running;
  }

  private async run(): Promise<void> {
    while (this.stack.length > 0) {
      const { name, release } = this.stack.pop()!;
      const started = Date.now();
      try {
        await release();
        this.logger.debug({ resource: name, ms: Date.now() - started }, 'released');
      } catch (err) {
        this.logger.error({ resource: name, err: (err as Error).message }, 'release failed');
      }
    }
  }
}

/**
 * Turns SIGINT/SIGTERM into one orderly shutdown. An unref'd timer forces the exit
 * if shutdown hangs, so a stuck connection never leaves a zombie deployment.
 */
export function exitOnSignals(releasers: Releasers, logger: Logger, timeoutMs: number): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.info({ signal }, 'already shutting down');
      return;
    }
    signalled = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown took too long; forcing exit');
      process.exit(1);
    }, timeoutMs).unref();
    releasers.releaseAll().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
