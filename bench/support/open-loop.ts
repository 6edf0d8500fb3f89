/**
 * Fair latency measurement at a fixed request rate, for a deligo route and its bare Express
 * baseline alike:
 *
 * - the load generator runs in a process of its own (bench/support/open-loop-client.ts), not in
 *   the bench process that also holds database pools, nor beside the server;
 * - it is open loop and evenly paced (request i is due at i / rate), and each latency counts from
 *   when the request was due. autocannon's `overallRate` instead lets each connection send its
 *   share of a second back to back, then sleep to the next second (bursts), and records each slow
 *   answer with a "corrected" tail of synthetic samples spaced 1 ms apart, whatever the rate: a
 *   single 300 ms stall then adds 300 samples, which alone moves p99 at 500/s;
 * - each phase starts with a warm-up at the same rate (JIT, sockets, caches), not measured;
 * - before each phase, `settle` waits until the processes under test are idle (the relay has
 *   drained, autovacuum and AOF rewrites are done), so neither side is measured while the other's
 *   leftovers run.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startProcess } from './processes.ts';

export interface OpenLoopRequest {
  method?: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface OpenLoopSpec {
  url: string;
  rate: number;
  seconds: number;
  warmupSeconds: number;
  /** Most sockets open at once (keep-alive); a request finding none free waits, and that wait counts. */
  connections: number;
  /** A JSON array of OpenLoopRequest, at least rate × (warmupSeconds + seconds) long. */
  requestsFile: string;
}

export interface OpenLoopResult {
  /** ms, from when each measured request was due to its whole answer read. */
  latencies: number[];
  /** How late the client sent requests (ms): its own lag, which a fair generator keeps near 0. */
  sentLate: { p50: number; p99: number; max: number };
  statuses: Record<string, number>;
  errors: number;
  firstFailure?: string;
  elapsedSeconds: number;
  generatorCpuSeconds: number;
  generatorLoopDelayMs: { p99: number; max: number };
}

/** Runs `requests` (warm-up first, then the measured ones) against `url` from a fresh client process. */
export async function openLoop(url: string, requests: OpenLoopRequest[], options: { rate: number; seconds: number; warmupSeconds: number; connections?: number }): Promise<OpenLoopResult> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'deligo-open-loop-'));
  try {
    const requestsFile = path.join(dir, 'requests.json');
    await fs.writeFile(requestsFile, JSON.stringify(requests));
    const spec: OpenLoopSpec = { url, rate: options.rate, seconds: options.seconds, warmupSeconds: options.warmupSeconds, connections: options.connections ?? 64, requestsFile };
    await fs.writeFile(path.join(dir, 'spec.json'), JSON.stringify(spec));
    const client = startProcess('bench/support/open-loop-client.ts', [path.join(dir, 'spec.json')], {});
    try {
      const line = await client.waitFor(/^result (.*)$/m, (options.seconds + options.warmupSeconds) * 1_000 + 120_000);
      return JSON.parse(line) as OpenLoopResult;
    } finally {
      await client.stop();
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Count of measured requests answered 2xx. */
export function ok(result: OpenLoopResult): number {
  return Object.entries(result.statuses).reduce((n, [status, count]) => (Number(status) >= 200 && Number(status) < 300 ? n + count : n), 0);
}

/**
 * Waits until the given CPU readers (seconds used so far, one per process) together use less than
 * `maxCores` over a `windowMs` window, or `timeoutMs` passes. Returns the cores used in the last window.
 */
export async function settle(readers: Array<() => Promise<number>>, options: { maxCores?: number; windowMs?: number; timeoutMs?: number } = {}): Promise<number> {
  const { maxCores = 0.05, windowMs = 1_000, timeoutMs = 30_000 } = options;
  const total = async () => (await Promise.all(readers.map((r) => r()))).reduce((a, b) => a + b, 0);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const before = await total();
    await new Promise((r) => setTimeout(r, windowMs));
    const cores = ((await total()) - before) / (windowMs / 1_000);
    if (cores < maxCores || Date.now() > deadline) return cores;
  }
}

/** The whole machine's CPU counters (USER_HZ ticks) from /proc/stat, for steal and busy time over a phase. */
export async function cpuTicks(): Promise<{ busy: number; steal: number; total: number }> {
  const values = (await fs.readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = values as number[];
  const busy = user! + nice! + system! + irq! + softirq!;
  return { busy, steal: steal!, total: busy + steal! + idle! + iowait! };
}
