import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { NODE_FLAGS } from '../../runtime/node-flags.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
/** USER_HZ: /proc reports CPU time in these ticks; 100 on Linux. */
const CLOCK_TICKS = 100;

export interface BenchProcess {
  child: ChildProcess;
  /** First capture group of the first output line matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
  /** Resident set size in MB, from /proc. */
  rssMb(): Promise<number>;
  /**
   * CPU time (user + system) the process has used so far, in seconds, from /proc. On a shared
   * machine, CPU per request is steadier than requests per second: it does not depend on how
   * much of the cores other work left over.
   */
  cpuSeconds(): Promise<number>;
}

/**
 * Runs a TypeScript entry point in its own process, so load generator and server do not share a
 * core's event loop; with the V8 flags deligo's processes are deployed with (runtime/node-flags.ts).
 */
export function startProcess(entry: string, args: string[], env: Record<string, string>, nodeArgs: string[] = [], cwd = ROOT): BenchProcess {
  const child = spawn(process.execPath, [...NODE_FLAGS, ...nodeArgs, '--import', 'tsx', entry, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (c: Buffer) => (text += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (text += c.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    child,
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = text.match(pattern);
        if (match) return match[1] ?? match[0];
        if (child.exitCode !== null) throw new Error(`${entry} exited:\n${text.slice(-2000)}`);
        if (Date.now() > deadline) throw new Error(`${entry}: no ${pattern} within ${timeoutMs} ms:\n${text.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
    async rssMb() {
      const { readFile } = await import('node:fs/promises');
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
      const kb = Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? NaN);
      return kb / 1024;
    },
    async cpuSeconds() {
      const { readFile } = await import('node:fs/promises');
      const stat = await readFile(`/proc/${child.pid}/stat`, 'utf8').catch(() => '');
      // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    },
  };
}

/**
 * CPU seconds (user + system) of a process we did not start, such as Redis or the Postgres
 * postmaster; with `children`, plus its live children and the children it has reaped (Postgres
 * backends), from /proc.
 */
export async function cpuSecondsOfPid(pid: number, options: { children?: boolean } = {}): Promise<number> {
  const { readFile, readdir } = await import('node:fs/promises');
  const fields = async (p: number | string) => {
    const stat = await readFile(`/proc/${p}/stat`, 'utf8').catch(() => '');
    return stat ? stat.slice(stat.lastIndexOf(')') + 2).split(' ') : undefined;
  };
  const own = await fields(pid);
  if (!own) return NaN;
  // After the name: state ppid … utime(11) stime(12) cutime(13) cstime(14), counted from 0.
  let ticks = Number(own[11]) + Number(own[12]);
  if (options.children) {
    ticks += Number(own[13]) + Number(own[14]);
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const f = await fields(entry);
      if (f && Number(f[1]) === pid) ticks += Number(f[11]) + Number(f[12]);
    }
  }
  return ticks / CLOCK_TICKS;
}

/** Busy CPU seconds of the whole machine so far (every process, ours or not), from /proc/stat. */
export async function machineBusySeconds(): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const [, ...values] = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
  const [user, nice, system, , , irq, softirq, steal] = values as number[];
  return (user! + nice! + system! + irq! + softirq! + steal!) / CLOCK_TICKS;
}

export interface SharedCpu {
  redis: number;
  /** The postmaster and every backend. */
  postgres: number;
  /** This benchmark process. */
  bench: number;
  /** The whole machine's busy time (see machineBusySeconds). */
  machine: number;
}

/**
 * A reader of the CPU seconds so far of the processes a benchmark shares the cores with but did
 * not start: the Redis behind `redis` and the Postgres behind `db` (found from their own answers),
 * this process, and the machine. Subtract two readings for a phase's share.
 */
export async function sharedCpuReader(redis: { info(section: string): Promise<string> }, db: { raw(sql: string): PromiseLike<{ rows: Array<{ pid: number }> }> }): Promise<() => Promise<SharedCpu>> {
  const { readFile } = await import('node:fs/promises');
  const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
  const backendPid = Number((await db.raw('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
  // A backend's parent is the postmaster: field 2 after the process name in /proc/<pid>/stat.
  const postmasterPid = Number((await readFile(`/proc/${backendPid}/stat`, 'utf8')).split(') ')[1]!.split(' ')[1]);
  return async () => ({
    redis: await cpuSecondsOfPid(redisPid),
    postgres: await cpuSecondsOfPid(postmasterPid, { children: true }),
    bench: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    machine: await machineBusySeconds(),
  });
}

/** What each of the shared processes used between two readings, divided by `per` (1: CPU seconds; the phase's seconds: cores). */
export function sharedCpuUsed(before: SharedCpu, after: SharedCpu, per = 1): SharedCpu {
  return {
    redis: (after.redis - before.redis) / per,
    postgres: (after.postgres - before.postgres) / per,
    bench: (after.bench - before.bench) / per,
    machine: (after.machine - before.machine) / per,
  };
}
