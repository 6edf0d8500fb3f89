import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import type { Logger } from '../logger.ts';

/** A port nobody listens on right now, chosen by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const SETPRIV = findSetpriv();

function findSetpriv(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const help = execFileSync('setpriv', ['--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return help.includes('--pdeathsig') ? 'setpriv' : undefined;
  } catch {
    return undefined;
  }
}

/** A child server process that can be stopped and awaited. */
export interface ManagedProcess {
  pid: number;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

export function spawnManaged(
  command: string,
  args: string[],
  options: SpawnOptions & {
    logger: Logger;
    name: string;
    /** Sent to the server if deligo dies without stopping it (even by SIGKILL). Default SIGTERM. */
    parentDeathSignal?: NodeJS.Signals;
  },
): ManagedProcess {
  const { logger, name, parentDeathSignal = 'SIGTERM', ...spawnOptions } = options;
  // util-linux's setpriv sets the kernel's parent-death signal and then execs the server, so
  // the pid stays the server's own. Where setpriv is missing, a stale server is reclaimed at
  // the next start instead (see reclaimStale).
  const [cmd, argv] = SETPRIV ? [SETPRIV, ['--pdeathsig', parentDeathSignal.replace(/^SIG/, ''), command, ...args]] : [command, args];
  // Detached: a Ctrl-C in the terminal reaches deligo alone, which then stops its servers
  // last, after workers have finished their jobs against them.
  const child: ChildProcess = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...spawnOptions });
  const log = logger.child({ service: name });
  const forward = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) log.debug(line.trim());
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', (err) => {
      log.error({ err: err.message }, 'could not start');
      resolve(null);
    });
  });
  let exitedFlag = false;
  void exited.then(() => (exitedFlag = true));
  return {
    pid: child.pid ?? -1,
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (exitedFlag) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * A server left running by a deligo that was killed outright (its parent is gone, so it
 * was re-parented) is ours to stop. One whose parent still lives belongs to another
 * running deligo, and we refuse to share its data directory.
 */
export async function reclaimStale(pidFile: string, what: string, logger: Logger): Promise<void> {
  const pid = Number((await fs.readFile(pidFile, 'utf8').catch(() => '')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes(what)) return;
  const parent = await parentPid(pid);
  if (parent !== undefined && parent > 1 && isAlive(parent) && !(await isSubreaper(parent))) {
    throw new Error(`${what} (pid ${pid}) from another running deligo (pid ${parent}) already uses ${pidFile}; stop it or set DATA_DIR`);
  }
  logger.warn({ pid }, `stopping ${what} left behind by an earlier run`);
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

/** Whether a process with this pid exists (signal 0 checks without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function parentPid(pid: number): Promise<number | undefined> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // The command name may hold spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) ? ppid : undefined;
}

/** Orphans are re-parented to the nearest subreaper (often an init-like shell), not always pid 1. */
async function isSubreaper(pid: number): Promise<boolean> {
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return !/node|tsx/.test(cmdline);
}

/**
 * The path of a Unix socket for an embedded server, or undefined when it would be too long for one
 * (the kernel's limit is 107 bytes; then clients use TCP). Processes on the same machine talk to
 * the embedded Redis and Postgres through these: a round trip through a Unix socket costs client and
 * server less kernel time than one through loopback TCP (no TCP/IP stack on either side), which
 * adds up over the dozens of round trips an order's dispatch makes.
 */
export function localSocket(file: string): string | undefined {
  return Buffer.byteLength(file) <= 100 ? file : undefined;
}
