import fs from 'node:fs';
import path from 'node:path';
import type { BenchResult } from './results.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** Where result lines go: the suite's file for this run (BENCH_RESULTS_FILE), else `.data/bench-results/<bench>.jsonl`. */
export function resultsFile(bench: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.BENCH_RESULTS_FILE ?? path.join(ROOT, '.data', 'bench-results', `${bench}.jsonl`);
}

/**
 * Records one headline figure of a benchmark as a JSON line (see BenchResult), beside the
 * baseline measured in the same run. `npm run bench` turns these into the summary table of
 * docs/benchmarks.md and into docs/capacity.md. Synchronous and never throws, so a bench that
 * reports just before it exits loses nothing and a full disk does not fail the bench.
 */
export function report(result: Omit<BenchResult, 'at' | 'runId'>): void {
  const line: BenchResult = { ...result, at: new Date().toISOString(), ...(process.env.BENCH_RUN_ID ? { runId: process.env.BENCH_RUN_ID } : {}) };
  try {
    const file = resultsFile(result.bench);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.appendFileSync(file, `${JSON.stringify(line)}\n`);
  } catch (err) {
    console.error(`bench result not recorded: ${(err as Error).message}`);
  }
}
