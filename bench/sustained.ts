/**
 * bench/sustained: 10,000 points/s (50,000 riders, one fix every 5 s) for 60 s through the real API
 * and location worker processes. Reports ingest → latest position visible (p50/p99, measured with
 * probe riders whose updates are watched on their pub/sub channel), the worker's RSS over the run,
 * and completeness at the end.
 *
 *   npm run bench:sustained     (BENCH_SECONDS=60 BENCH_POINTS_PER_SECOND=10000 by default)
 *
 * Riders' phones batch: each request carries BENCH_POINTS_PER_REQUEST fixes (default 5, 25 s of a
 * rider's track: 2,000 requests/s). Every rider posts one fix first, as at the start of a shift.
 */
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { locationKeys } from '../location/keys.ts';
import { signToken } from '../runtime/tokens.ts';
import { sharedCpuReader, sharedCpuUsed, startProcess } from './support/processes.ts';
import { machine, startBenchServices } from './support/services.ts';
import { fmt, quantile } from './support/stats.ts';
import { report } from './support/report.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const POINTS_PER_SECOND = Number(process.env.BENCH_POINTS_PER_SECOND ?? 10_000);
const PER_REQUEST = Number(process.env.BENCH_POINTS_PER_REQUEST ?? 5);
const RIDERS = 50_000;
const PROBES = 20;
const PATH = '/v1/riders/me/locations';

const services = await startBenchServices();
const { platform, urls } = services;
const env = { REDIS_URL: urls.redisUrl, DATABASE_URL: urls.databaseUrl, NODE_ENV: 'test', LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1' };
// BENCH_PROFILE_API=dir / BENCH_PROFILE_WORKER=dir write CPU profiles of those processes there.
const cpuProf = (dir: string | undefined) => (dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []);
const api = startProcess('api/main.ts', [], env, cpuProf(process.env.BENCH_PROFILE_API));
const workers = startProcess('workers/main.ts', ['--pools', 'location'], env, cpuProf(process.env.BENCH_PROFILE_WORKER));
const subscriber = new Redis(urls.redisUrl);
const jobsRedis = new Redis(urls.redisUrl);

try {
  const apiUrl = await api.waitFor(/"url":"([^"]+)"/);
  await workers.waitFor(/workers ready/);
  const secret = platform.config.jwt;
  const tokens: string[] = [];
  for (let i = 0; i < RIDERS; i += 5_000) {
    tokens.push(...(await Promise.all(Array.from({ length: Math.min(5_000, RIDERS - i) }, (_, j) => signToken({ sub: `s-r${i + j}`, role: 'rider' }, secret)))));
  }
  const step = new Array<number>(RIDERS).fill(0);
  const started = Date.now() - 10 * 60_000;
  let next = 0;
  const fixes = (rider: number, count: number) =>
    Array.from({ length: count }, () => {
      const k = step[rider]!++;
      return { lat: 37.45 + (rider % 200) * 0.0005 + (k * 25) / 111_320, lng: 127.0 + Math.floor(rider / 200) * 0.0005, recordedAt: new Date(started + k * 5_000).toISOString(), speed: 5, accuracy: 6 };
    });

  // A rider's first request of the shift has its token verified and the user recorded; every
  // later one is settled from memory. The sustained load is the later kind, so every rider posts
  // one fix first (counted in completeness, not in the rate).
  const warmup = await autocannon({
    url: apiUrl + PATH,
    connections: 64,
    amount: RIDERS,
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const rider = next++ % RIDERS;
          return { ...req, body: JSON.stringify({ points: fixes(rider, 1) }), headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[rider]}` } };
        },
      },
    ],
  });
  const warmAcked = warmup['2xx'];

  // Probes: riders whose every point is timed from request to the publish of their new position.
  const keys = locationKeys(platform.config.queuePrefix);
  const probeTokens = await Promise.all(Array.from({ length: PROBES }, (_, i) => signToken({ sub: `probe-${i}`, role: 'rider' }, secret)));
  const sentAt = new Map<string, number>();
  const ackedAt = new Map<string, number>();
  const visible: number[] = [];
  // Where the time goes: request → 202 (batcher wait + the job's add), and 202 → published.
  const probeAck: number[] = [];
  const afterAck: number[] = [];
  await subscriber.subscribe(...Array.from({ length: PROBES }, (_, i) => keys.updates(`probe-${i}`)));
  subscriber.on('message', (_channel, message) => {
    const update = JSON.parse(message) as { riderId: string; recordedAt: number };
    const t = sentAt.get(`${update.riderId}@${update.recordedAt}`);
    if (t === undefined) return;
    visible.push(Date.now() - t);
    const a = ackedAt.get(`${update.riderId}@${update.recordedAt}`);
    if (a !== undefined) afterAck.push(Date.now() - a);
  });
  let probing = true;
  const probeLoop = (async () => {
    for (let round = 0; probing; round++) {
      const recordedAt = Date.now();
      await Promise.all(
        probeTokens.map(async (token, i) => {
          const sent = Date.now();
          sentAt.set(`probe-${i}@${recordedAt}`, sent);
          await fetch(apiUrl + PATH, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body: JSON.stringify({ points: [{ lat: 37.4979 + round * 0.00001, lng: 127.0276, recordedAt: new Date(recordedAt).toISOString() }] }),
          });
          ackedAt.set(`probe-${i}@${recordedAt}`, Date.now());
          probeAck.push(Date.now() - sent);
        }),
      );
      await new Promise((r) => setTimeout(r, 500));
    }
  })();

  // The queue's side, from the completed jobs BullMQ keeps (the last 200): add → a worker takes
  // the job, and the job's run (live state, history COPY, fraud) until it completes.
  const jobWait: number[] = [];
  const jobRun: number[] = [];
  const seenJobs = new Set<string>();
  const completedKey = `${platform.config.queuePrefix}:{location}:completed`;
  const jobSampler = setInterval(() => {
    void (async () => {
      const ids = (await jobsRedis.zrevrange(completedKey, 0, 199)).filter((id) => !seenJobs.has(id));
      if (ids.length === 0) return;
      const pipeline = jobsRedis.pipeline();
      for (const id of ids) pipeline.hmget(`${platform.config.queuePrefix}:{location}:${id}`, 'timestamp', 'processedOn', 'finishedOn');
      const replies = (await pipeline.exec()) ?? [];
      ids.forEach((id, i) => {
        const [added, started, finished] = ((replies[i]?.[1] as Array<string | null>) ?? []).map(Number);
        if (!(added! > 0 && started! > 0 && finished! > 0)) return;
        seenJobs.add(id);
        jobWait.push(started! - added!);
        jobRun.push(finished! - started!);
      });
    })().catch(() => undefined);
  }, 500);
  const rss: number[] = [];
  const sampler = setInterval(() => void workers.rssMb().then((mb) => rss.push(mb)), 5_000);
  // Redis and Postgres share the two cores with the API and the worker: their CPU per point counts too.
  const others = await sharedCpuReader(platform.redis, platform.db);
  const othersBefore = await others();
  const cpuBefore = { api: await api.cpuSeconds(), worker: await workers.cpuSeconds() };
  const loadStarted = Date.now();
  // Requests autocannon built for the measured load: its pacing sends a little under the rate asked.
  let built = 0;
  const result = await autocannon({
    url: apiUrl + PATH,
    connections: 64,
    duration: SECONDS,
    overallRate: POINTS_PER_SECOND / PER_REQUEST,
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const rider = next++ % RIDERS;
          built++;
          return { ...req, body: JSON.stringify({ points: fixes(rider, PER_REQUEST) }), headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[rider]}` } };
        },
      },
    ],
  });
  const loadSeconds = (Date.now() - loadStarted) / 1000;
  const cores = { api: ((await api.cpuSeconds()) - cpuBefore.api) / loadSeconds, worker: ((await workers.cpuSeconds()) - cpuBefore.worker) / loadSeconds };
  const othersAfter = await others();
  const otherCores = sharedCpuUsed(othersBefore, othersAfter, loadSeconds);
  probing = false;
  await probeLoop;
  clearInterval(sampler);
  clearInterval(jobSampler);

  const loadAcked = result['2xx'] * PER_REQUEST;
  const acked = loadAcked + warmAcked;
  const stopped = Date.now();
  let stored = 0;
  while (Date.now() - stopped < 10_000) {
    stored = Number((await platform.db('rider_locations').where('rider_id', 'like', 's-r%').count('* as n'))[0]!.n);
    if (stored >= acked) break;
    await new Promise((r) => setTimeout(r, 250));
  }

  console.log(`\nbench/sustained  ${new Date().toISOString()}  ${machine()}`);
  console.log(`${fmt(POINTS_PER_SECOND)} points/s offered for ${SECONDS} s (${PER_REQUEST} points per request, ${fmt(RIDERS)} riders)\n`);
  console.log('| measure | value | target |');
  console.log('|---|---|---|');
  // RSS trend: a least-squares slope over the second half of the run, when the heap has warmed up.
  const half = rss.slice(Math.floor(rss.length / 2));
  const slope = (() => {
    const n = half.length;
    if (n < 2) return NaN;
    const mx = (n - 1) / 2;
    const my = half.reduce((a, b) => a + b, 0) / n;
    const num = half.reduce((a, y, i) => a + (i - mx) * (y - my), 0);
    const den = half.reduce((a, _y, i) => a + (i - mx) ** 2, 0);
    return (num / den) * 12; // samples are 5 s apart: MB per minute
  })();
  console.log(`| points acknowledged per second | ${fmt(loadAcked / SECONDS)} | ${fmt(POINTS_PER_SECOND)} |`);
  // Where offered points went: not sent (autocannon's pacing), refused, failed, or acknowledged.
  const failed = result.errors + result.timeouts;
  console.log(`| points offered (${fmt(POINTS_PER_SECOND)}/s × ${SECONDS} s) / sent by autocannon (requests built × ${PER_REQUEST}) | ${fmt(POINTS_PER_SECOND * SECONDS)} / ${fmt(built * PER_REQUEST)} | |`);
  console.log(`| points answered: acknowledged (2xx) / refused (non-2xx) / lost to errors or timeouts | ${fmt(loadAcked)} / ${fmt(result.non2xx * PER_REQUEST)} / ${fmt(failed * PER_REQUEST)} | refused and lost 0 |`);
  console.log(`| ack latency p50 / p99 (ms) | ${result.latency.p50} / ${result.latency.p99} | |`);
  console.log(`| ingest → latest position visible, p50 / p99 (ms, ${visible.length} probes) | ${fmt(quantile(visible, 0.5))} / ${fmt(quantile(visible, 0.99))} | p99 < 250 |`);
  const p = (xs: number[]) => `${fmt(quantile(xs, 0.5))} / ${fmt(quantile(xs, 0.99))}`;
  console.log(`| of which: probe request → 202 / 202 → published, p50 / p99 (ms) | ${p(probeAck)} / ${p(afterAck)} | |`);
  console.log(`| location jobs: add → taken by the worker / taken → completed, p50 / p99 (ms, ${jobWait.length} jobs sampled) | ${p(jobWait)} / ${p(jobRun)} | |`);
  console.log(`| location worker RSS first / last / max (MB) | ${fmt(rss[0] ?? NaN)} / ${fmt(rss.at(-1) ?? NaN)} / ${fmt(Math.max(...rss))} | flat, < 300 |`);
  console.log(`| worker RSS trend over the second half (MB per minute) | ${fmt(slope, 1)} | ≈ 0 |`);
  console.log(`| completeness (warm-up included) | ${fmt(stored)} of ${fmt(acked)} in Postgres ${fmt((Date.now() - stopped) / 1000, 1)} s after the load | all within 10 s |`);
  console.log(`| non-2xx responses | ${result.non2xx + result.errors + result.timeouts} | 0 |`);
  console.log(`| CPU used during the load (cores): API / location worker | ${fmt(cores.api, 2)} / ${fmt(cores.worker, 2)} | of 2, shared with Redis, Postgres, the load generator |`);
  const perSecond = loadAcked / loadSeconds;
  const us = (c: number) => fmt((c / perSecond) * 1e6, 1);
  console.log(`| CPU used during the load (cores): Redis / Postgres (all backends) / load generator | ${fmt(otherCores.redis, 2)} / ${fmt(otherCores.postgres, 2)} / ${fmt(otherCores.bench, 2)} | |`);
  console.log(`| whole machine busy during the load (cores, every process on it) | ${fmt(otherCores.machine, 2)} | of 2 |`);
  console.log(`| CPU per acknowledged point (µs): API / worker / Redis / Postgres | ${us(cores.api)} / ${us(cores.worker)} / ${us(otherCores.redis)} / ${us(otherCores.postgres)} | |`);
  console.log(`\nworker RSS every 5 s (MB): ${rss.map((mb) => fmt(mb)).join(' ')}`);
  console.log(`worker RSS at the start, each minute and the end (MB): ${rss.filter((_, i) => i % 12 === 0).concat(rss.length % 12 === 1 ? [] : [rss.at(-1)!]).map((mb) => fmt(mb)).join(' → ')}`);
  console.log(`warm-up: ${fmt(warmAcked)} first fixes (one per rider) before the measured load, at ${fmt(warmup.requests.average)} requests/s`);
  report({ bench: 'sustained', metric: 'points-per-s', label: `points acknowledged per second, ${PER_REQUEST} per request`, value: loadAcked / SECONDS, unit: 'points/s', baseline: POINTS_PER_SECOND, baselineLabel: 'offered', target: '= offered', met: loadAcked / SECONDS >= 0.95 * POINTS_PER_SECOND });
  report({ bench: 'sustained', metric: 'visible-p99', label: 'ingest → latest position visible, p99', value: quantile(visible, 0.99), unit: 'ms', target: 'p99 < 250 ms', met: quantile(visible, 0.99) < 250 });
  report({ bench: 'sustained', metric: 'cpu-per-point', label: 'API + location worker CPU per point', value: ((cores.api + cores.worker) * 1e6) / Math.max(1, loadAcked / SECONDS), unit: 'µs' });
  report({ bench: 'sustained', metric: 'worker-rss-max', label: 'location worker RSS, max', value: Math.max(...rss), unit: 'MB', target: '< 300 MB', met: Math.max(...rss) < 300 });
} finally {
  subscriber.disconnect();
  jobsRedis.disconnect();
  await Promise.all([api.stop(), workers.stop()]);
  await services.stop();
}
