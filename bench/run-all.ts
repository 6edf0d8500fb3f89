/**
 * `npm run bench`: runs every bench/*.ts script one after the other, each in its own process,
 * then regenerates the summary table of docs/benchmarks.md and docs/capacity.md from the figures
 * the scripts reported (bench/support/report.ts).
 *
 *   npm run bench                       every benchmark with its own default settings
 *   npm run bench -- --quick            short settings (bench/support/suite.ts), minutes in all
 *   npm run bench -- ingest nearby      only these
 *   npm run bench -- --timeout 600      stop a script after 600 s (default 3600, quick 900)
 *
 * A script that fails or times out does not stop the suite; the table reports it as failed.
 * Run it under the shared lock on a shared machine: `flock /tmp/deligo-bench.lock npm run bench`.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeCapacityDoc } from './support/capacity-doc.ts';
import { latestResults, replaceBetweenMarkers, summaryMarkdown, type BenchOutcome } from './support/results.ts';
import { loadAllResults, machineFacts, RESULTS_DIR, ROOT } from './support/results-store.ts';
import { benchEnv, parseSuiteArgs, selectBenches } from './support/suite.ts';

const args = parseSuiteArgs(process.argv.slice(2));
const benches = selectBenches(await fs.readdir(path.join(ROOT, 'bench')), args.only);
const runId = new Date().toISOString().replace(/[:.]/g, '-');
const resultsFile = path.join(RESULTS_DIR, `run-${runId}.jsonl`);
const logDir = path.join(RESULTS_DIR, `run-${runId}`);
await fs.mkdir(logDir, { recursive: true });
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
console.log(`${command}: ${benches.join(', ')}; logs in ${path.relative(ROOT, logDir)}/`);

const outcomes: BenchOutcome[] = [];
// Ctrl-C or SIGTERM stops the script running now (and its processes), then the suite.
let current: number | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (current !== undefined) {
      try {
        process.kill(-current, 'SIGTERM');
      } catch {}
    }
    process.exit(130);
  });
}
for (const bench of benches) {
  console.log(`\n=== bench/${bench} ===`);
  outcomes.push(await runOne(bench));
  const last = outcomes.at(-1)!;
  console.log(`=== bench/${bench}: ${last.ok ? 'ok' : `FAILED (${last.exit})`} in ${Math.round(last.seconds)} s ===`);
}
await fs.writeFile(path.join(logDir, 'outcomes.json'), JSON.stringify(outcomes, null, 2));

// Figures of benches not in this run come from their last run on this machine (dated in the table).
const results = latestResults(await loadAllResults());
const ctx = { runId, machine: machineFacts(), date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC', command, outcomes };
const docPath = path.join(ROOT, 'docs', 'benchmarks.md');
await fs.writeFile(docPath, replaceBetweenMarkers(await fs.readFile(docPath, 'utf8'), 'bench:summary', summaryMarkdown(results, ctx)));
await writeCapacityDoc(results, ctx);
console.log(`\nwrote docs/benchmarks.md (summary) and docs/capacity.md; ${outcomes.filter((o) => !o.ok).length} of ${outcomes.length} scripts failed`);
process.exitCode = outcomes.every((o) => o.ok) ? 0 : 1;

/** Runs one script, its output both on the console and in its log; never throws. */
function runOne(bench: string): Promise<BenchOutcome> {
  const started = Date.now();
  const log = createWriteStream(path.join(logDir, `${bench}.log`));
  const env = { ...benchEnv(bench, args.quick, process.env), BENCH_RESULTS_FILE: resultsFile, BENCH_RUN_ID: runId };
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('bench', `${bench}.ts`)], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  current = child.pid;
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      log.write(chunk);
    });
  }
  // The whole process group: a bench's own API and worker processes go with it.
  const timer = setTimeout(() => {
    console.log(`bench/${bench}: no end after ${args.timeoutSeconds} s; stopping it`);
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {}
    setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
    }, 20_000).unref();
  }, args.timeoutSeconds * 1_000);
  return new Promise((resolve) => {
    child.on('error', (err) => log.write(`\n${err.stack}\n`));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      log.end();
      resolve({ bench, ok: code === 0, seconds: (Date.now() - started) / 1_000, ...(code === 0 ? {} : { exit: signal ?? String(code) }) });
    });
  });
}
