/**
 * What `npm run bench` runs and how: the pure part of bench/run-all.ts (arguments, the scripts
 * to run, the short settings of `--quick`).
 */

/** Scripts under bench/ that are not benchmarks: the runner itself and the capacity writer. */
export const NOT_BENCHMARKS = new Set(['run-all', 'capacity']);

/**
 * `--quick`: each script's own settings (the BENCH_* knobs documented at its top), short enough
 * that the whole suite runs in minutes. A setting given in the environment wins.
 */
export const QUICK_SETTINGS: Record<string, Record<string, string>> = {
  notifications: { BENCH_JOBS: '2000', BENCH_RUNS: '1', BENCH_LATENCY_SECONDS: '3' },
  ingest: { BENCH_SECONDS: '3', BENCH_ROUNDS: '1' },
  nearby: { BENCH_SECONDS: '3' },
  sustained: { BENCH_SECONDS: '10' },
  tracking: { BENCH_SECONDS: '3', BENCH_ROUNDS: '1' },
  'tracking-stream': { BENCH_SECONDS: '5', BENCH_STREAMS: '200' },
  gifts: { BENCH_GIFTS: '2000', BENCH_RESERVE_SECONDS: '3', BENCH_WAIT_SECONDS: '120' },
  'group-orders': { BENCH_GROUPS: '10000', BENCH_SECONDS: '3' },
  pages: { BENCH_RUNS: '2', BENCH_RIDERS: '100', BENCH_POSTS: '5' },
  dispatch: { BENCH_SECONDS: '10' },
  'dispatch-search': { BENCH_SEARCHES: '200' },
  'status-batches': { BENCH_ORDERS: '1000' },
  orders: { BENCH_SECONDS: '5' },
  scale: { BENCH_SECONDS: '4' },
  memory: { BENCH_MEMORY_ITEMS: '2000' },
  'api-cost': { BENCH_SECONDS: '3' },
};

export interface SuiteArgs {
  quick: boolean;
  /** Benches named on the command line; empty means all. */
  only: string[];
  /** Seconds after which one script is stopped and counted as failed. */
  timeoutSeconds: number;
}

export function parseSuiteArgs(argv: string[]): SuiteArgs {
  const out: SuiteArgs = { quick: false, only: [], timeoutSeconds: 0 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') out.quick = true;
    else if (arg === '--timeout') out.timeoutSeconds = Number(argv[++i]);
    else if (arg.startsWith('--timeout=')) out.timeoutSeconds = Number(arg.slice('--timeout='.length));
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg} (known: --quick, --timeout <seconds>, bench names)`);
    else out.only.push(arg.replace(/^bench\//, '').replace(/\.ts$/, ''));
  }
  if (!Number.isFinite(out.timeoutSeconds) || out.timeoutSeconds < 0) throw new Error('--timeout takes a number of seconds');
  if (out.timeoutSeconds === 0) out.timeoutSeconds = out.quick ? 900 : 3_600;
  return out;
}

/** The scripts to run, in a stable order: the named ones, else every benchmark file. Unknown names throw. */
export function selectBenches(files: string[], only: string[]): string[] {
  const all = files
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.replace(/\.ts$/, ''))
    .filter((name) => !NOT_BENCHMARKS.has(name))
    .sort();
  if (only.length === 0) return all;
  only = only.map((name) => name.replace(/^bench\//, '').replace(/\.ts$/, ''));
  const unknown = only.filter((name) => !all.includes(name));
  if (unknown.length > 0) throw new Error(`no such bench: ${unknown.join(', ')} (known: ${all.join(', ')})`);
  return all.filter((name) => only.includes(name));
}

/** The environment one script runs with: quick settings under whatever the caller set. */
export function benchEnv(bench: string, quick: boolean, env: NodeJS.ProcessEnv): Record<string, string> {
  const quickSettings = quick ? (QUICK_SETTINGS[bench] ?? {}) : {};
  const out: Record<string, string> = { ...quickSettings };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
