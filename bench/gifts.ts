/**
 * bench/gifts: the midnight spike of seed 004 and reservations under load.
 *
 * 1. Raw BullMQ baseline: N empty delayed jobs, all due at one instant, two Workers.
 * 2. Midnight spike: N gifts, all due at the same instant (a simulated 00:00 Asia/Seoul a few
 *    seconds ahead), written with bulk SQL and one delayed job each (addBulk), then sent by two
 *    `workers/main.ts --pools gifts,notifications,maintenance` processes through the development KakaoTalk
 *    provider. Lateness = the recipient's delivery `sent_at` − the gift's send time (and, for
 *    the claim alone, `claimed_at` − send time). Duplicates and missing gifts are counted.
 * 3. Reservations: `POST /v1/gifts` at a fixed rate through the real API process, p50/p99.
 *
 *   npm run bench:gifts      (BENCH_GIFTS=100000 BENCH_RESERVE_RATE=200 BENCH_RESERVE_SECONDS=20)
 */
import autocannon from 'autocannon';
import { Queue, Worker } from 'bullmq';
import { DateTime } from 'luxon';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { seedGiftProducts } from '../cli/commands/seed.ts';
import { topUp } from '../credits/ledger.ts';
import { scheduleSends } from '../gifts/schedule.ts';
import { giftSchedulers } from '../schedulers/definitions.ts';
import { syncSchedulers } from '../schedulers/sync.ts';
import { signToken } from '../runtime/tokens.ts';
import { ok, openLoop, settle, type OpenLoopRequest } from './support/open-loop.ts';
import { startProcess, type BenchProcess } from './support/processes.ts';
import { machine, startBenchServices } from './support/services.ts';
import { fmt, quantile } from './support/stats.ts';
import { report } from './support/report.ts';

const N = Number(process.env.BENCH_GIFTS ?? 100_000);
const RESERVE_RATE = Number(process.env.BENCH_RESERVE_RATE ?? 200);
const RESERVE_SECONDS = Number(process.env.BENCH_RESERVE_SECONDS ?? 20);
const WORKERS = 2;
// The development provider has no quota; this measures deligo, not a limiter.
const UNTHROTTLED = { NOTIFY_RATE_KAKAO: '1000000', NOTIFY_RATE_PUSH: '1000000', NOTIFY_RATE_SMS: '1000000', NOTIFY_RATE_EMAIL: '1000000' };

// GIFT_* settings given to the run apply to the schedulers this process upserts as well.
const giftEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('GIFT_'))) as Record<string, string>;
const services = await startBenchServices({ ...UNTHROTTLED, ...giftEnv });
const { platform, urls } = services;
const db = platform.db;
const env = { REDIS_URL: urls.redisUrl, DATABASE_URL: urls.databaseUrl, LOG_LEVEL: 'info', ...UNTHROTTLED };
const s = (ms: number) => `${fmt(ms / 1_000, 2)} s`;
const lines: string[] = [`bench/gifts · ${machine()} · ${new Date().toISOString()} · load average at start ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`];
const say = (line: string) => {
  lines.push(line);
  process.stdout.write(`${line}\n`);
};

/** CPU seconds used so far by Postgres (the postmaster and its live children) and by Redis (its own INFO). */
async function serverCpu(): Promise<{ pg: number; redis: number }> {
  const { readFile, readdir } = await import('node:fs/promises');
  const stat = async (pid: string) => {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: fields[1], cpu: (Number(fields[11]) + Number(fields[12])) / 100 };
  };
  const backend = String((await db.raw('SELECT pg_backend_pid() AS pid')).rows[0].pid);
  const postmaster = (await stat(backend)).ppid!;
  let pg = (await stat(postmaster)).cpu;
  for (const pid of (await readdir('/proc')).filter((d) => /^\d+$/.test(d))) {
    const st = await stat(pid);
    if (st.ppid === postmaster) pg += st.cpu || 0;
  }
  const info = await platform.redis.info('cpu');
  const redis = Number(info.match(/used_cpu_sys:([\d.]+)/)?.[1] ?? 0) + Number(info.match(/used_cpu_user:([\d.]+)/)?.[1] ?? 0);
  return { pg, redis };
}

/** The next wall-clock second at least `leadMs` ahead: what "00:00:00 KST" stands for in this run. */
const dueAfter = (leadMs: number) => Math.ceil((Date.now() + leadMs) / 1_000) * 1_000;

async function rawBurst(): Promise<void> {
  const connection = platform.workerConnection();
  const queue = new Queue('bench-raw-burst', { connection: platform.redis, prefix: 'bench' });
  // Generous: on a shared box adding 100k jobs can take tens of seconds, and must end before the due time.
  const due = dueAfter(10_000 + N * 0.4);
  const started = Date.now();
  for (let i = 0; i < N; i += 5_000) {
    await queue.addBulk(Array.from({ length: Math.min(5_000, N - i) }, (_, j) => ({ name: 'empty', data: { i: i + j }, opts: { delay: due - Date.now(), removeOnComplete: true } })));
  }
  const enqueueMs = Date.now() - started;
  const lateness: number[] = [];
  const seen = new Set<number>();
  let duplicates = 0;
  const workers = Array.from({ length: WORKERS }, () =>
    new Worker(queue.name, async (job) => {
      lateness.push(Date.now() - due);
      if (seen.has(job.data.i)) duplicates++;
      seen.add(job.data.i);
    }, { connection, prefix: 'bench', concurrency: 200 }),
  );
  const deadline = due + 120_000 + N;
  while (seen.size < N && Date.now() < deadline) await sleep(100);
  await Promise.all(workers.map((w) => w.close()));
  await queue.obliterate({ force: true });
  await queue.close();
  say(`raw BullMQ burst: ${fmt(N)} delayed empty jobs due at one instant (enqueued in ${s(enqueueMs)}), ${WORKERS} workers in one process`);
  say(`  lateness p50 ${s(quantile(lateness, 0.5))} · p99 ${s(quantile(lateness, 0.99))} · max ${s(Math.max(...lateness))} · duplicates ${duplicates} · missing ${N - seen.size}`);
  report({ bench: 'gifts', metric: 'raw-burst-p99', label: `raw BullMQ: ${fmt(N)} delayed empty jobs due at one instant, lateness p99`, value: quantile(lateness, 0.99), unit: 'ms' });
}

async function midnightSpike(): Promise<void> {
  await seedGiftProducts(db);
  // BENCH_WORKER_CPU_PROF=dir writes a V8 CPU profile of each worker process there.
  const profile = process.env.BENCH_WORKER_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_WORKER_CPU_PROF}`] : [];
  // BENCH_WORKER_NODE_ARGS="--max-semi-space-size=32" tries node settings on the worker processes.
  const nodeArgs = [...profile, ...(process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const workers: BenchProcess[] = Array.from({ length: WORKERS }, () => startProcess('workers/main.ts', ['--pools', 'gifts,notifications,maintenance'], env, nodeArgs));
  await Promise.all(workers.map((w) => w.waitFor(/workers ready/)));
  await syncSchedulers(platform.queues, giftSchedulers(platform.config.gifts), platform.logger);

  // Far enough ahead for gifts.prepare ticks (every 30 s, 90 s horizon) to see the burst a full
  // minute ahead after the setup, as they see a real midnight whose gifts were reserved at least
  // 10 minutes ahead.
  const due = dueAfter(100_000 + N * 0.8);
  const local = DateTime.fromMillis(due, { zone: 'Asia/Seoul' }).toFormat("yyyy-LL-dd'T'HH:mm:ss");
  const started = Date.now();
  // Bulk SQL: the reservations themselves are measured separately (step 3).
  await db.raw(
    `INSERT INTO gifts (id, sender_id, sender_name, product_id, product_name, price, validity_days, recipient_name, recipient_phone,
                        channel, message, send_at, send_local, time_zone, status)
     SELECT gen_random_uuid()::text, 'bench-s' || (i % 5000), '보내는사람' || (i % 5000), 'gp-starbucks-americano-t', '스타벅스 아메리카노 Tall', 4700, 30,
            '받는사람' || i, '010-' || lpad((i / 10000)::text, 4, '0') || '-' || lpad((i % 10000)::text, 4, '0'),
            'kakao', '생일 축하해! 🎂', ?, ?, 'Asia/Seoul', 'SCHEDULED'
       FROM generate_series(1, ?) AS i`,
    [new Date(due), local, N],
  );
  await db.raw(`INSERT INTO gift_events (gift_id, to_status, actor, reason) SELECT id, 'SCHEDULED', 'user:' || sender_id, 'reserved' FROM gifts WHERE send_at = ?`, [new Date(due)]);
  const ids = await db('gifts').where({ send_at: new Date(due) }).select('id', 'send_at');
  const inserted = Date.now();
  for (let i = 0; i < ids.length; i += 5_000) await scheduleSends(platform.queues, ids.slice(i, i + 5_000));
  const enqueued = Date.now();
  say(`midnight spike: ${fmt(N)} gifts due at ${local} (simulated 00:00 KST), bulk insert ${s(inserted - started)}, addBulk ${s(enqueued - inserted)}, ${WORKERS} worker processes (gifts + notifications pools)`);
  if (Date.now() > due) say('  WARNING: setup overran the due time; lateness includes setup');

  await sleep(Math.max(0, due - Date.now()));
  const workerCpu = async () => (await Promise.all(workers.map((w) => w.cpuSeconds()))).reduce((a, b) => a + b, 0);
  const cpuAtInstant = await workerCpu();
  const serversAtInstant = await serverCpu();
  const batches = await platform.queues.get('gifts').getJobs(['delayed', 'wait', 'active', 'completed', 'prioritized']);
  const burstJobs = () => batches.filter((j) => j.name === 'gift.send-batch' && j.data.dueAt === due && !j.id!.endsWith('-fallback'));
  const prepared = await Promise.any(workers.map((w) => w.waitFor(/"staged":(\d+,"batches":\d+,"tookMs":\d+,"aheadMs":-?\d+)[^\n]*gift burst prepared/, 1_000))).catch(() => undefined);
  const [staged, , tookMs, aheadMs] = (prepared ?? '').split(/,"\w+":/).map(Number);
  say(`  burst prepared ahead: ${burstJobs().length > 0 ? `yes, ${burstJobs().length} batch jobs` : 'no (single-gift jobs only)'}${prepared ? `, ${fmt(staged!)} sends staged; preparing took ${s(tookMs!)} and ended ${s(aheadMs!)} before the instant` : ''}`);
  const sentCount = async () => Number((await db.raw(`SELECT count(*) AS n FROM notification_deliveries WHERE event = 'gift.received' AND status = 'sent'`)).rows[0].n);
  // Long enough that "missing" means lost, not slow; the lateness figures show slow.
  const deadline = due + Number(process.env.BENCH_WAIT_SECONDS ?? 900) * 1_000;
  let sent = 0;
  // The CPU spent until every gift is SENT on record (the critical path; the records written
  // meanwhile are in it too, as far as they ran), read on the same 2 s poll.
  let atAllSent: { worker: number; pg: number; at: number } | undefined;
  // Gifts not yet SENT, read through the partial indexes on SCHEDULED and SENDING (cheap once the
  // instant is under way), every 250 ms: the CPU read when none is left is the critical path's,
  // with little of the records (held back while sends wait) in it.
  const unsent = async () => Number((await db.raw(`SELECT count(*) AS n FROM gifts WHERE status IN ('SCHEDULED', 'SENDING')`)).rows[0].n);
  const watchSent = (async () => {
    while (Date.now() < deadline && (await unsent()) > 0) await sleep(250);
    atAllSent = { worker: (await workerCpu()) - cpuAtInstant, pg: (await serverCpu()).pg - serversAtInstant.pg, at: Date.now() - due };
  })();
  // Every 2 s: the count scans every delivery row, and a busier poll would be part of the load it measures.
  while ((sent = await sentCount()) < N && Date.now() < deadline) await sleep(2_000);
  await watchSent;
  const { rows: [late] } = await db.raw(
    `SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY x) AS p50, percentile_disc(0.99) WITHIN GROUP (ORDER BY x) AS p99, max(x) AS max
       FROM (SELECT extract(epoch FROM d.sent_at - g.send_at) * 1000 AS x FROM gifts g JOIN notification_deliveries d ON d.id = g.delivery_id WHERE d.status = 'sent') t`,
  );
  const { rows: [claim] } = await db.raw(
    `SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY x) AS p50, percentile_disc(0.99) WITHIN GROUP (ORDER BY x) AS p99, max(x) AS max, min(x) AS min
       FROM (SELECT extract(epoch FROM claimed_at - send_at) * 1000 AS x FROM gifts WHERE claimed_at IS NOT NULL) t`,
  );
  const { rows: [dups] } = await db.raw(
    `SELECT (SELECT count(*) FROM (SELECT data->>'giftId' FROM notification_deliveries WHERE event = 'gift.received' GROUP BY 1 HAVING count(*) > 1) a) AS messages,
            (SELECT count(*) FROM (SELECT gift_id FROM gift_events WHERE to_status = 'SENDING' GROUP BY 1 HAVING count(*) > 1) b) AS claims,
            (SELECT count(*) FROM notification_deliveries WHERE event = 'gift.received' AND attempts > 1) AS retried`,
  );
  const cpuDelivered = (await workerCpu()) - cpuAtInstant;
  const serversAfter = await serverCpu();
  say(`  delivered lateness p50 ${s(Number(late.p50))} · p99 ${s(Number(late.p99))} · max ${s(Number(late.max))}  (targets: p99 < 10 s, max < 60 s)`);
  const finished = (await Promise.all(burstJobs().map((j) => platform.queues.get('gifts').getJob(j.id!)))).filter((j) => j?.processedOn);
  if (finished.length > 0) {
    const started = finished.map((j) => j!.processedOn! - due);
    const done = finished.filter((j) => j!.finishedOn).map((j) => j!.finishedOn! - due);
    say(`  batch jobs: started p50 ${s(quantile(started, 0.5))} · max ${s(Math.max(...started))} after the instant; finished p50 ${s(quantile(done, 0.5))} · max ${s(Math.max(...done))}`);
  }
  say(`  claim lateness p50 ${s(Number(claim.p50))} · p99 ${s(Number(claim.p99))} · max ${s(Number(claim.max))} · earliest ${s(Number(claim.min))}`);
  report({ bench: 'gifts', metric: 'spike-delivered-p99', label: `${fmt(N)} gifts due at one instant: delivered lateness p99`, value: Number(late.p99), unit: 'ms', target: 'p99 < 10 s, none missing or twice', met: Number(late.p99) < 10_000 && sent >= N && Number(dups.messages) === 0 });
  say(`  worker CPU from the instant to the last delivery: ${fmt(cpuDelivered, 1)} s in all, ${fmt((cpuDelivered * 1e6) / Math.max(1, sent), 0)} µs per gift (both processes); Postgres ${fmt(((serversAfter.pg - serversAtInstant.pg) * 1e6) / Math.max(1, sent), 0)} µs, Redis ${fmt(((serversAfter.redis - serversAtInstant.redis) * 1e6) / Math.max(1, sent), 0)} µs per gift`);
  if (atAllSent) say(`  CPU until every gift was SENT (seen at +${s(atAllSent.at)}, 250 ms poll): worker ${fmt((atAllSent.worker * 1e6) / N, 0)} µs, Postgres ${fmt((atAllSent.pg * 1e6) / N, 0)} µs per gift`);
  say(`  duplicates: ${dups.messages} gifts with two messages, ${dups.claims} claimed twice · ${dups.retried} deliveries re-run after a stalled worker · missing ${N - sent}`);
  // The senders' "발송 완료" follows the recipients (the settle sweep holds back during a burst).
  const settled = async () => Number((await db.raw(`SELECT count(*) AS n FROM gifts WHERE status = 'SENT'`)).rows[0].n);
  const settleDeadline = Date.now() + 180_000;
  while ((await settled()) < N && Date.now() < settleDeadline) await sleep(1_000);
  const { rows: [status] } = await db.raw(`SELECT count(*) FILTER (WHERE status = 'SENT') AS sent, count(*) FILTER (WHERE status <> 'SENT') AS other FROM gifts`);
  // Senders are told once their notices have gone out, or after 60 s more (then the count says how many were).
  const toldCount = async () => Number((await db.raw(`SELECT count(*) AS n FROM notification_deliveries WHERE event = 'gift.sent' AND status = 'sent'`)).rows[0].n);
  const toldDeadline = Date.now() + 60_000;
  while ((await toldCount()) < N && Date.now() < toldDeadline) await sleep(1_000);
  const { rows: [told] } = await db.raw(
    `SELECT count(*) AS n, percentile_disc(0.5) WITHIN GROUP (ORDER BY x) AS p50, percentile_disc(0.99) WITHIN GROUP (ORDER BY x) AS p99, max(x) AS max,
            percentile_disc(0.5) WITHIN GROUP (ORDER BY y) AS lag50, percentile_disc(0.99) WITHIN GROUP (ORDER BY y) AS lag99
       FROM (SELECT extract(epoch FROM d.sent_at - g.send_at) * 1000 AS x, extract(epoch FROM d.sent_at - r.sent_at) * 1000 AS y
               FROM notification_deliveries d JOIN gifts g ON g.id = d.data->>'giftId' JOIN notification_deliveries r ON r.id = g.delivery_id
              WHERE d.event = 'gift.sent' AND d.status = 'sent') t`,
  );
  say(`  gift rows after the settle sweep: ${fmt(Number(status.sent))} SENT, ${fmt(Number(status.other))} other · senders told (발송 완료) ${fmt(Number(told.n))}, p50 ${s(Number(told.p50))} · p99 ${s(Number(told.p99))} · max ${s(Number(told.max))} after the send time`);
  // Where a batch's time goes, from the rows' own timestamps: locked → sent (the gift SENT on record, the
  // critical path) → its record written (delivery row, history; held back while sends wait); the
  // sender is told before the record is written (a negative last stage).
  const { rows: [stages] } = await db.raw(
    `SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY a) AS sent50, percentile_disc(0.5) WITHIN GROUP (ORDER BY b) AS record50, percentile_disc(0.99) WITHIN GROUP (ORDER BY b) AS record99,
            percentile_disc(0.5) WITHIN GROUP (ORDER BY c) AS told50
       FROM (SELECT extract(epoch FROM g.sent_at - g.claimed_at) * 1000 AS a, extract(epoch FROM r.created_at - g.sent_at) * 1000 AS b, extract(epoch FROM d.sent_at - r.created_at) * 1000 AS c
               FROM gifts g JOIN notification_deliveries r ON r.id = g.delivery_id LEFT JOIN notification_deliveries d ON d.event = 'gift.sent' AND d.data->>'giftId' = g.id) t`,
  );
  say(`  per gift: locked → SENT p50 ${s(Number(stages.sent50))} · SENT → record written p50 ${s(Number(stages.record50))}, p99 ${s(Number(stages.record99))} · sender told → record written p50 ${s(-Number(stages.told50))}`);
  say(`  sender-notice lag behind the recipient's message: p50 ${s(Number(told.lag50))} · p99 ${s(Number(told.lag99))}  (seed 004: notifications within 30 s)`);
  // Seed 004's 30 s for notifications counts from the send time, as the recipients' lateness does.
  report({ bench: 'gifts', metric: 'spike-sender-notice-p99', label: `${fmt(N)} gifts at one instant: 발송 완료 to the sender, after the send time p99`, value: Number(told.p99), unit: 'ms', target: 'p99 < 30 s, every sender told', met: Number(told.p99) < 30_000 && Number(told.n) >= N });
  await Promise.all(workers.map((w) => w.stop()));
}

async function reservations(): Promise<void> {
  // Also when the spike was skipped (BENCH_SKIP_SPIKE=1): reservations need the catalogue.
  await seedGiftProducts(db);
  // BENCH_API_CPU_PROF=dir writes a V8 CPU profile of the API process there (open it in Chrome DevTools).
  const profile = process.env.BENCH_API_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_API_CPU_PROF}`] : [];
  const api = startProcess('api/main.ts', [], { ...env, PORT: '0' }, profile);
  // BENCH_RESERVE_KEYS=1 sends an Idempotency-Key with every reservation, as a retrying app would.
  const withKeys = process.env.BENCH_RESERVE_KEYS === '1';
  try {
    const url = await api.waitFor(/"url":"([^"]+)"/);
    const senders = 50;
    await db.transaction(async (trx) => {
      for (let i = 0; i < senders; i++) await topUp(trx, { userId: `bench-r${i}`, amount: 1_000_000_000, ref: { type: 'bench', id: randomUUID() } });
    });
    const tokens = await Promise.all(Array.from({ length: senders }, (_, i) => signToken({ sub: `bench-r${i}`, role: 'customer' }, platform.config.jwt)));
    const started = Date.now();
    const sendAt = DateTime.now().setZone('Asia/Seoul').plus({ days: 30 }).toFormat("yyyy-LL-dd'T'HH:mm");
    let n = 0;
    const cpuBefore = await api.cpuSeconds();
    const result = await autocannon({
      url: `${url}/v1/gifts`,
      connections: 20,
      overallRate: RESERVE_RATE,
      duration: RESERVE_SECONDS,
      requests: [
        {
          method: 'POST',
          setupRequest: (req) => {
            const i = n++;
            const body = { productId: 'gp-starbucks-latte-t', recipient: { name: `친구${i}`, phone: '010-1234-5678' }, channel: 'kakao', message: '다음 달에 만나!', sendAt, timeZone: 'Asia/Seoul' };
            const key = withKeys ? { 'idempotency-key': `bench-${i}-${started}` } : {};
            return { ...req, body: JSON.stringify(body), headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[i % senders]}`, ...key } };
          },
        },
      ],
    });
    const cpu = (await api.cpuSeconds()) - cpuBefore;
    say(`reservations: POST /v1/gifts at ${RESERVE_RATE}/s for ${RESERVE_SECONDS} s through the API process (group-committed: gift, history, ledger debit and confirmation record in one statement per batch; delayed jobs and confirmation jobs by addBulk)${withKeys ? ', each with an Idempotency-Key' : ''}`);
    say(`  API CPU ${fmt((cpu * 1e6) / Math.max(1, result.requests.total), 0)} µs per request`);
    say(`  autocannon: ${fmt(result.requests.average)} req/s · latency p50 ${result.latency.p50} ms · p99 ${result.latency.p99} ms · max ${result.latency.max} ms · non-2xx ${result.non2xx} · errors ${result.errors}`);

    // The same rate, open loop from a process of its own, latency from when each request was due
    // (bench/support/open-loop.ts: autocannon's overallRate sends each second's share in bursts and
    // pads every slow answer with synthetic samples), beside a bare Express 5 JSON POST measured the
    // same way in the same run, each phase started on idle processes.
    const bare = startProcess('bench/support/bare-express.ts', [], {});
    try {
      const bareUrl = await bare.waitFor(/listening (\S+)/);
      const WARMUP = 3;
      const gifts = (count: number, path: string): OpenLoopRequest[] =>
        Array.from({ length: count }, () => {
          const i = n++;
          const body = JSON.stringify({ productId: 'gp-starbucks-latte-t', recipient: { name: `친구${i}`, phone: '010-1234-5678' }, channel: 'kakao', message: '다음 달에 만나!', sendAt, timeZone: 'Asia/Seoul' });
          const key: Record<string, string> = withKeys ? { 'idempotency-key': `bench-${i}-${started}` } : {};
          return { path, headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[i % senders]}`, ...key }, body };
        });
      const idle = [() => api.cpuSeconds(), () => bare.cpuSeconds()];
      const open: Record<'bare' | 'deligo', number[]> = { bare: [], deligo: [] };
      let failed = 0;
      for (let round = 1; round <= 3; round++) {
        for (const side of ['bare', 'deligo'] as const) {
          await settle(idle);
          const r = await openLoop(side === 'bare' ? bareUrl : url, gifts(RESERVE_RATE * (WARMUP + RESERVE_SECONDS), side === 'bare' ? '/v1/riders/me/locations' : '/v1/gifts'), { rate: RESERVE_RATE, seconds: RESERVE_SECONDS, warmupSeconds: WARMUP });
          open[side].push(quantile(r.latencies, 0.99));
          if (side === 'deligo') failed += r.latencies.length - ok(r);
          say(`  open loop, round ${round}, ${side === 'bare' ? 'bare Express 5 JSON POST' : 'deligo POST /v1/gifts'}: p50 ${fmt(quantile(r.latencies, 0.5), 1)} · p99 ${fmt(quantile(r.latencies, 0.99), 1)} · max ${fmt(Math.max(...r.latencies), 1)} ms · non-2xx ${r.latencies.length - ok(r)} · sent late p99 ${fmt(r.sentLate.p99, 1)} ms`);
        }
      }
      const p99 = quantile(open.deligo, 0.5);
      const bareP99 = quantile(open.bare, 0.5);
      say(`  open loop, median of 3 rounds: deligo p99 ${fmt(p99, 1)} ms beside bare Express p99 ${fmt(bareP99, 1)} ms  (target p99 < 100 ms)`);
      report({ bench: 'gifts', metric: 'reserve-p99', label: `POST /v1/gifts p99 at ${RESERVE_RATE}/s (open loop, median of 3 rounds)`, value: p99, unit: 'ms', baseline: bareP99, baselineLabel: 'bare Express 5 JSON POST, same generator and rate', target: 'p99 < 100 ms', met: p99 < 100 && failed === 0 });
    } finally {
      await bare.stop();
    }
  } finally {
    await api.stop();
  }
}

try {
  if (process.env.BENCH_SKIP_RAW !== '1') await rawBurst();
  if (process.env.BENCH_SKIP_SPIKE !== '1') await midnightSpike();
  if (process.env.BENCH_SKIP_RESERVE !== '1') await reservations();
} finally {
  await services.stop();
}
process.stdout.write(`\n${lines.join('\n')}\n`);
process.exit(0);
