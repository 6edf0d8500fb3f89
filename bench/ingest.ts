/**
 * bench/ingest: rider location ingest through the real API and location worker (separate
 * processes), beside a bare Express 5 JSON POST handler measured in the same run.
 *
 *   npm run bench:ingest        (BENCH_SECONDS=10 BENCH_ROUNDS=3 BENCH_CONNECTIONS=64 by default)
 *
 * Two phases, each alternating bare Express and deligo runs BENCH_ROUNDS times (the machine is
 * shared, so alternation spreads noise over both sides and the medians are quoted):
 *   1. the API alone: the location queue is paused, so the worker process sits idle and the
 *      acknowledged points wait in Redis; then the queue resumes and completeness is checked;
 *   2. with the location worker draining on the same two cores, then batches of 10 points.
 * Completeness: within 10 s of the load stopping, every acknowledged point is in Postgres.
 */
import autocannon from 'autocannon';
import { signToken } from '../runtime/tokens.ts';
import { startProcess, type BenchProcess } from './support/processes.ts';
import { machine, startBenchServices } from './support/services.ts';
import { fmt, median } from './support/stats.ts';
import { report } from './support/report.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const RIDERS = 10_000;
const PATH = '/v1/riders/me/locations';

const services = await startBenchServices();
const { platform, urls } = services;
const env = { REDIS_URL: urls.redisUrl, DATABASE_URL: urls.databaseUrl, NODE_ENV: 'test', LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1' };
// BENCH_PROFILE_API=dir writes a CPU profile of the API process there.
const profile = process.env.BENCH_PROFILE_API;
const api = startProcess('api/main.ts', [], env, profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []);
// BENCH_PROFILE_WORKER=dir: the same for the location worker.
const workerProfile = process.env.BENCH_PROFILE_WORKER;
const workers = startProcess('workers/main.ts', ['--pools', 'location'], env, workerProfile ? ['--cpu-prof', `--cpu-prof-dir=${workerProfile}`] : []);
const bare = startProcess('bench/support/bare-express.ts', [], {});
const queues = platform.queues.shards('location').map((s) => s.queue);

interface Run {
  requestsPerSec: number;
  pointsPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU time of the server process per answered request, in µs. */
  cpuUs: number;
}

try {
  const apiUrl = await api.waitFor(/"url":"([^"]+)"/);
  const bareUrl = await bare.waitFor(/listening (\S+)/);
  await workers.waitFor(/workers ready/);
  const tokens = await Promise.all(Array.from({ length: RIDERS }, (_, i) => signToken({ sub: `bench-r${i}`, role: 'rider' }, platform.config.jwt)));
  // Every point is new and plausible: each rider rides north at 5 m/s, one fix a second,
  // starting five minutes ago, so the fraud rules have nothing to say (as on a normal evening).
  const step = new Array<number>(RIDERS).fill(0);
  const started = Date.now() - 5 * 60_000;
  let next = 0;
  const body = (points: number) => {
    const rider = next++ % RIDERS;
    const list = Array.from({ length: points }, () => {
      const k = step[rider]!++;
      return {
        lat: 37.45 + (rider % 100) * 0.001 + (k * 5) / 111_320,
        lng: 127.0 + Math.floor(rider / 100) * 0.001,
        recordedAt: new Date(started + k * 1_000).toISOString(),
        speed: 5,
        heading: 0,
        accuracy: 6,
      };
    });
    return { rider, json: JSON.stringify({ points: list }) };
  };
  let acked = 0;

  const load = async (server: BenchProcess, url: string, points: number, counted: boolean): Promise<Run> => {
    const cpuBefore = await server.cpuSeconds();
    const result = await autocannon({
      url: url + PATH,
      connections: CONNECTIONS,
      duration: SECONDS,
      requests: [
        {
          method: 'POST',
          setupRequest: (req) => {
            const { rider, json } = body(points);
            return { ...req, body: json, headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[rider]}` } };
          },
        },
      ],
    });
    const cpu = (await server.cpuSeconds()) - cpuBefore;
    if (counted) acked += result['2xx'] * points;
    return {
      cpuUs: (cpu * 1e6) / Math.max(1, result['2xx'] + result.non2xx),
      requestsPerSec: result['2xx'] / SECONDS,
      pointsPerSec: (result['2xx'] * points) / SECONDS,
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: result.non2xx + result.errors + result.timeouts,
    };
  };
  /** Alternates baseline and deligo runs; returns every run of each. */
  const alternate = async () => {
    const runs = { bare: [] as Run[], deligo: [] as Run[] };
    for (let i = 0; i < ROUNDS; i++) {
      runs.bare.push(await load(bare, bareUrl, 1, false));
      runs.deligo.push(await load(api, apiUrl, 1, true));
    }
    return runs;
  };
  /** Waits up to `limitMs` for Postgres to hold every acknowledged point; returns the count and the wait. */
  const completeness = async (limitMs: number) => {
    const stopped = Date.now();
    let stored = 0;
    while (Date.now() - stopped < limitMs) {
      stored = Number((await platform.db('rider_locations').count('* as n'))[0]!.n);
      if (stored >= acked) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    return { acked, stored, seconds: (Date.now() - stopped) / 1000 };
  };

  // A rider's first point of the shift creates the user and has its token checked; after that a
  // rider posts with the same token every few seconds. The runs measure that steady state.
  for (let i = 0; i < RIDERS; i += CONNECTIONS) {
    await Promise.all(
      tokens.slice(i, i + CONNECTIONS).map(async () => {
        const { rider, json } = body(1);
        const res = await fetch(apiUrl + PATH, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[rider]}` }, body: json });
        if (res.status === 202) acked += 1;
      }),
    );
  }

  await Promise.all(queues.map((q) => q.pause()));
  const alone = await alternate();
  await Promise.all(queues.map((q) => q.resume()));
  // The backlog of the paused phase drains first; it may take longer than the 10 s target for a live load.
  const afterAlone = await completeness(60_000);
  const shared = await alternate();
  const batched = process.env.BENCH_ONLY_SINGLE ? undefined : await load(api, apiUrl, 10, true);
  const final = await completeness(10_000);

  const row = (name: string, r: Run) => `| ${name} | ${fmt(r.requestsPerSec)} | ${fmt(r.pointsPerSec)} | ${r.p50} | ${r.p99} | ${fmt(r.cpuUs)} | ${r.errors} |`;
  const ratio = (runs: { bare: Run[]; deligo: Run[] }) => median(runs.deligo.map((r) => r.requestsPerSec)) / median(runs.bare.map((r) => r.requestsPerSec));
  const list = (runs: Run[]) => runs.map((r) => fmt(r.requestsPerSec)).join(', ');

  console.log(`\nbench/ingest  ${new Date().toISOString()}  ${machine()}`);
  console.log(`${SECONDS} s per run, ${ROUNDS} alternating rounds per phase, ${CONNECTIONS} keep-alive connections, ${RIDERS} riders\n`);
  console.log('| run (the round with the median requests/s) | requests/s | points/s | ack p50 (ms) | ack p99 (ms) | server CPU per request (µs) | non-2xx |');
  console.log('|---|---|---|---|---|---|---|');
  const mid = (runs: Run[]) => [...runs].sort((a, b) => a.requestsPerSec - b.requestsPerSec)[Math.floor((runs.length - 1) / 2)]!;
  console.log(row('API alone: bare Express 5 JSON POST', mid(alone.bare)));
  console.log(row('API alone: deligo, 1 point per request', mid(alone.deligo)));
  console.log(row('with worker: bare Express 5 JSON POST', mid(shared.bare)));
  console.log(row('with worker: deligo, 1 point per request', mid(shared.deligo)));
  if (batched) console.log(row('with worker: deligo, 10 points per request', batched));
  console.log(`\nrounds, requests/s: API alone bare ${list(alone.bare)} / deligo ${list(alone.deligo)}; with worker bare ${list(shared.bare)} / deligo ${list(shared.deligo)}`);
  const cpuRatio = (runs: { bare: Run[]; deligo: Run[] }) => median(runs.bare.map((r) => r.cpuUs)) / median(runs.deligo.map((r) => r.cpuUs));
  console.log(`single-point vs bare Express, API alone (location queue paused): ${fmt(ratio(alone), 2)} × (target ≥ 0.7)`);
  console.log(`  the same as CPU per request (bare ÷ deligo, medians): ${fmt(cpuRatio(alone), 2)} ×; µs per request, bare ${alone.bare.map((r) => fmt(r.cpuUs)).join(', ')} / deligo ${alone.deligo.map((r) => fmt(r.cpuUs)).join(', ')}`);
  console.log(`single-point vs bare Express, location worker draining on the same cores: ${fmt(ratio(shared), 2)} ×`);
  if (batched) console.log(`batches of 10 vs single points (with worker): ${fmt(batched.pointsPerSec / median(shared.deligo.map((r) => r.pointsPerSec)), 2)} × points/s (target ≥ 3)`);
  console.log(`completeness after the paused phase: ${fmt(afterAlone.acked)} points acknowledged, ${fmt(afterAlone.stored)} in Postgres ${fmt(afterAlone.seconds, 1)} s after the queue resumed`);
  console.log(`completeness at the end: ${fmt(final.acked)} points acknowledged, ${fmt(final.stored)} in Postgres ${fmt(final.seconds, 1)} s after the load stopped`);
  console.log(`location worker RSS: ${fmt(await workers.rssMb())} MB, API RSS: ${fmt(await api.rssMb())} MB`);
  const medianOf = (runs: Run[], key: keyof Run) => median(runs.map((r) => r[key]));
  report({ bench: 'ingest', metric: 'api-alone', label: 'single-point requests/s, API alone (queue paused)', value: medianOf(alone.deligo, 'requestsPerSec'), unit: 'req/s', baseline: medianOf(alone.bare, 'requestsPerSec'), baselineLabel: 'bare Express 5 JSON POST', target: '≥ 0.7 × baseline', met: ratio(alone) >= 0.7 });
  report({ bench: 'ingest', metric: 'api-cpu-per-request', label: 'API CPU per single-point request, API alone', value: medianOf(alone.deligo, 'cpuUs'), unit: 'µs', baseline: medianOf(alone.bare, 'cpuUs'), baselineLabel: 'bare Express 5 JSON POST' });
  report({ bench: 'ingest', metric: 'with-worker', label: 'single-point requests/s, location worker draining on the same cores', value: medianOf(shared.deligo, 'requestsPerSec'), unit: 'req/s', baseline: medianOf(shared.bare, 'requestsPerSec'), baselineLabel: 'bare Express 5 JSON POST' });
  if (batched) report({ bench: 'ingest', metric: 'batched-points', label: 'points/s in batches of 10 (with worker)', value: batched.pointsPerSec, unit: 'points/s', baseline: medianOf(shared.deligo, 'pointsPerSec'), baselineLabel: 'deligo, 1 point per request', target: '≥ 3 × baseline', met: batched.pointsPerSec >= 3 * medianOf(shared.deligo, 'pointsPerSec') });
  report({ bench: 'ingest', metric: 'completeness', label: 'acknowledged points in Postgres after the load (s)', value: final.seconds, unit: 's', target: 'all within 10 s', met: final.stored >= final.acked });
} finally {
  await Promise.all([api.stop(), workers.stop(), bare.stop()]);
  await services.stop();
}
