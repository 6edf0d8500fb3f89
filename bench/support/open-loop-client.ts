/**
 * The load generator of bench/support/open-loop.ts, in a process of its own so that it shares no
 * event loop (and no garbage collector) with the server it measures or with the bench that
 * orchestrates. Reads a spec file (argv[2]), sends its requests open loop at a fixed rate (the
 * i-th is due at start + i / rate, whether or not earlier answers came back), and prints one line
 * `result {...}` with each measured request's latency counted from when it was DUE, so a late
 * send, a wait for a free socket or a stall of this process counts against the result, never
 * hides it (no coordinated omission).
 */
import fs from 'node:fs';
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { OpenLoopRequest, OpenLoopResult, OpenLoopSpec } from './open-loop.ts';

const spec = JSON.parse(fs.readFileSync(process.argv[2]!, 'utf8')) as OpenLoopSpec;
const requests = JSON.parse(fs.readFileSync(spec.requestsFile, 'utf8')) as OpenLoopRequest[];
const warmup = Math.round(spec.rate * spec.warmupSeconds);
const total = warmup + Math.round(spec.rate * spec.seconds);
if (requests.length < total) throw new Error(`${total} requests needed, ${requests.length} given`);
// Node's default since v18, said explicitly: no Nagle delay on either side of the socket.
const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections, noDelay: true });
const url = new URL(spec.url);
const interval = 1_000 / spec.rate;

const latencies = new Float64Array(total - warmup);
const lateness = new Float64Array(total - warmup);
const statuses = new Map<number, number>();
let errors = 0;
let done = 0;
let firstFailure: string | undefined;
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
let cpuAtMeasure: NodeJS.CpuUsage | undefined;
let measureStart = 0;

const finished = new Promise<void>((resolve) => {
  const settle = () => {
    if (++done === total) resolve();
  };
  const send = (i: number, due: number) => {
    const r = requests[i]!;
    const sentLate = performance.now() - due;
    const req = http.request({ host: url.hostname, port: url.port, path: r.path, method: r.method ?? 'POST', agent, headers: { ...r.headers, 'content-length': String(Buffer.byteLength(r.body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (i >= warmup) {
          latencies[i - warmup] = performance.now() - due;
          lateness[i - warmup] = sentLate;
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
        if ((status < 200 || status >= 300) && !firstFailure) firstFailure = `${status} ${Buffer.concat(chunks).toString().slice(0, 300)}`;
        settle();
      });
    });
    req.on('error', (err) => {
      if (i >= warmup) {
        errors++;
        latencies[i - warmup] = performance.now() - due;
      }
      firstFailure ??= err.message;
      settle();
    });
    req.end(r.body);
  };
  const start = performance.now() + 20;
  let next = 0;
  const tick = () => {
    const now = performance.now();
    // Everything due by now goes now: after a stall the backlog is sent at once (as a real
    // client population would), and its latencies still count from when each was due.
    while (next < total && start + next * interval <= now) {
      if (next === warmup) {
        cpuAtMeasure = process.cpuUsage();
        measureStart = now;
        loopDelay.enable();
      }
      send(next, start + next * interval);
      next++;
    }
    if (next < total) setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
  };
  setTimeout(tick, 20);
});

await finished;
loopDelay.disable();
const cpu = process.cpuUsage(cpuAtMeasure);
const result: OpenLoopResult = {
  latencies: Array.from(latencies, (v) => Math.round(v * 100) / 100),
  sentLate: quantiles(lateness),
  statuses: Object.fromEntries(statuses),
  errors,
  firstFailure,
  elapsedSeconds: (performance.now() - measureStart) / 1_000,
  generatorCpuSeconds: (cpu.user + cpu.system) / 1e6,
  generatorLoopDelayMs: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
};
process.stdout.write(`result ${JSON.stringify(result)}\n`);
agent.destroy();
process.exit(0);

function quantiles(values: Float64Array): { p50: number; p99: number; max: number } {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? NaN };
}
