/**
 * bench/notifications: notification throughput with the development provider against raw
 * BullMQ's empty-job rate, and enqueue→sent latency at 1,000 notifications per second.
 *
 *   npm run bench:notifications            (BENCH_JOBS=10000 BENCH_RUNS=5 BENCH_LATENCY_SECONDS=10 by default)
 */
import { Queue, Worker } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import { JOBS } from '../jobs/index.ts';
import { QUEUES } from '../runtime/queue-registry.ts';
import { notify } from '../notifications/notify.ts';
import { createJobDeps } from '../workers/job-deps.ts';
import { startPool } from '../workers/pool-runner.ts';
import { poolDefinitions } from '../workers/pools.ts';
import { machine, startBenchServices } from './support/services.ts';
import { fmt, median, quantile } from './support/stats.ts';
import { report } from './support/report.ts';

const JOBS_PER_RUN = Number(process.env.BENCH_JOBS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const RATE = 1_000;
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 10);

// No provider quota in the way: this measures deligo, not the limiter.
const services = await startBenchServices({ NOTIFY_RATE_PUSH: '1000000' });
const { platform } = services;
const pool = poolDefinitions(platform.config).find((p) => p.name === 'notifications')!;
const deps = createJobDeps(platform);
const connection = platform.workerConnection();
let round = 0;

/**
 * Empty jobs through plain BullMQ with the same worker concurrency. `retention` gives the queue
 * deligo's bounded removeOnComplete/removeOnFail; without it BullMQ keeps every job (its default).
 */
async function rawThroughput(retention: boolean): Promise<number> {
  const defaultJobOptions = retention ? QUEUES.notifyPush.defaultJobOptions : {};
  const queue = new Queue(`bench-raw-${++round}`, { connection, prefix: 'bench', defaultJobOptions });
  await queue.addBulk(Array.from({ length: JOBS_PER_RUN }, (_, i) => ({ name: 'empty', data: { i } })));
  const started = performance.now();
  const drained = countCompleted(JOBS_PER_RUN);
  const worker = new Worker(queue.name, async () => {}, { connection, prefix: 'bench', concurrency: pool.concurrency });
  worker.on('completed', drained.tick);
  await drained.done;
  const rate = JOBS_PER_RUN / ((performance.now() - started) / 1_000);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return rate;
}

async function deligoThroughput(): Promise<number> {
  const run = ++round;
  for (let i = 0; i < JOBS_PER_RUN; i += 200) {
    await Promise.all(
      Array.from({ length: Math.min(200, JOBS_PER_RUN - i) }, (_, j) =>
        notify(platform, {
          event: 'order.delivered',
          recipient: { userId: `c-${(i + j) % 5_000}` },
          channels: ['push'],
          data: { orderId: `o-${run}-${i + j}` },
          idempotencyKey: `bench:${run}:${i + j}`,
        }),
      ),
    );
  }
  const started = performance.now();
  const drained = countCompleted(JOBS_PER_RUN);
  const running = startPool({ pool, jobs: JOBS, deps, connection, prefix: platform.config.queuePrefix, shards: platform.config.queueShards, logger: platform.logger });
  running.workers[0]!.on('completed', drained.tick);
  await drained.done;
  const rate = JOBS_PER_RUN / ((performance.now() - started) / 1_000);
  await running.close();
  return rate;
}

/** Adds one job every 1/RATE s for LATENCY_SECONDS and reports added→processed latencies (ms). */
async function rawLatency(): Promise<number[]> {
  const queue = new Queue(`bench-raw-lat-${++round}`, { connection: platform.redis, prefix: 'bench' });
  const latencies: number[] = [];
  const worker = new Worker(queue.name, async (job) => void latencies.push(Date.now() - job.data.at), { connection, prefix: 'bench', concurrency: pool.concurrency });
  await paced((i) => queue.add('empty', { at: Date.now(), i }));
  await waitFor(() => latencies.length >= RATE * LATENCY_SECONDS);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return latencies;
}

/** notify() at RATE per second; latency is the delivery row's created_at → sent_at. */
async function deligoLatency(): Promise<number[]> {
  const run = ++round;
  const running = startPool({ pool, jobs: JOBS, deps, connection, prefix: platform.config.queuePrefix, shards: platform.config.queueShards, logger: platform.logger });
  await paced((i) =>
    notify(platform, {
      event: 'rider.arriving',
      recipient: { userId: `c-${i % 5_000}` },
      channels: ['push'],
      data: { orderId: `o-lat-${run}-${i}`, distanceMeters: 90 },
      idempotencyKey: `bench-lat:${run}:${i}`,
    }),
  );
  const key = `bench-lat:${run}:%`;
  await waitFor(async () => Number((await platform.db('notification_deliveries').where('idempotency_key', 'like', key).where({ status: 'sent' }).count('* as n'))[0]!.n) >= RATE * LATENCY_SECONDS);
  await running.close();
  const rows = await platform.db('notification_deliveries')
    .where('idempotency_key', 'like', key)
    .select(platform.db.raw('extract(epoch from (sent_at - created_at)) * 1000 as ms'));
  return rows.map((r: { ms: string }) => Number(r.ms));
}

/** Calls `send` RATE times a second, on schedule (not back-to-back), without waiting for each. */
async function paced(send: (i: number) => Promise<unknown>): Promise<void> {
  const total = RATE * LATENCY_SECONDS;
  const started = performance.now();
  const pending: Array<Promise<unknown>> = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1_000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    pending.push(send(i));
  }
  await Promise.all(pending);
}

function countCompleted(target: number) {
  let count = 0;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  return { done, tick: () => void (++count >= target && resolve()) };
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('benchmark did not finish in time');
    await sleep(50);
  }
}

try {
  const raw: number[] = [];
  const rawRetained: number[] = [];
  const ours: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    raw.push(await rawThroughput(false));
    rawRetained.push(await rawThroughput(true));
    ours.push(await deligoThroughput());
  }
  const rawLat = await rawLatency();
  const ourLat = await deligoLatency();
  const ratio = median(ours) / median(raw);
  console.log(`\nbench/notifications  ${new Date().toISOString()}  ${machine()}`);
  console.log(`jobs per run ${JOBS_PER_RUN}, runs ${RUNS}, concurrency ${pool.concurrency}, latency load ${RATE}/s for ${LATENCY_SECONDS} s\n`);
  console.log('| measure | deligo | baseline (raw BullMQ) | ratio | target |');
  console.log('|---|---|---|---|---|');
  console.log(`| throughput, dev provider (jobs/s, median of ${RUNS}) | ${fmt(median(ours))} | ${fmt(median(raw))} empty jobs | ${fmt(ratio * 100)}% | ≥ 50% |`);
  console.log(`| same, baseline with deligo's job retention | ${fmt(median(ours))} | ${fmt(median(rawRetained))} empty jobs | ${fmt((median(ours) / median(rawRetained)) * 100)}% | |`);
  console.log(`| enqueue→sent p50 at ${RATE}/s (ms) | ${fmt(quantile(ourLat, 0.5), 1)} | ${fmt(quantile(rawLat, 0.5), 1)} | | |`);
  console.log(`| enqueue→sent p99 at ${RATE}/s (ms) | ${fmt(quantile(ourLat, 0.99), 1)} | ${fmt(quantile(rawLat, 0.99), 1)} | | < 1000 |`);
  console.log(`\nruns (jobs/s): deligo ${ours.map((r) => fmt(r)).join(', ')}; raw ${raw.map((r) => fmt(r)).join(', ')}; raw with retention ${rawRetained.map((r) => fmt(r)).join(', ')}`);
  report({ bench: 'notifications', metric: 'throughput', label: `push notifications drained, dev provider (median of ${RUNS})`, value: median(ours), unit: 'jobs/s', baseline: median(raw), baselineLabel: 'raw BullMQ, empty jobs', target: '≥ 0.5 × baseline', met: ratio >= 0.5 });
  report({ bench: 'notifications', metric: 'latency-p99', label: `enqueue → sent p99 at ${RATE}/s`, value: quantile(ourLat, 0.99), unit: 'ms', baseline: quantile(rawLat, 0.99), baselineLabel: 'raw BullMQ add → process', target: '< 1,000 ms', met: quantile(ourLat, 0.99) < 1_000 });
} finally {
  await deps.close();
  await services.stop();
}
