/**
 * bench/ingest: rider location ingest through the real API and location workers (separate
 * processes), beside a bare Express 5 JSON POST handler measured in the same run.
 *
 *   npm run bench:ingest        (BENCH_SECONDS=30 BENCH_CONNECTIONS=64 by default)
 *
 * Prints accepted points/s and ack latency for single-point requests and for batches of 10, and
 * checks completeness: within 10 s of the load stopping, every acknowledged point is in Postgres.
 */
import autocannon from 'autocannon';
import { signToken } from '../runtime/tokens.ts';
import { startProcess } from './support/processes.ts';
import { machine, startBenchServices } from './support/services.ts';
import { fmt } from './support/stats.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
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
const workers = process.env.BENCH_NO_WORKERS ? undefined : startProcess('workers/main.ts', ['--pools', 'location'], env, workerProfile ? ['--cpu-prof', `--cpu-prof-dir=${workerProfile}`] : []);
const bare = startProcess('bench/support/bare-express.ts', [], {});

interface Run {
  name: string;
  requestsPerSec: number;
  pointsPerSec: number;
  p50: number;
  p99: number;
  acked: number;
  errors: number;
}

try {
  const apiUrl = await api.waitFor(/"url":"([^"]+)"/);
  const bareUrl = await bare.waitFor(/listening (\S+)/);
  await workers?.waitFor(/workers ready/);
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

  const load = async (name: string, url: string, points: number): Promise<Run> => {
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
    const acked = result['2xx'];
    return {
      name,
      requestsPerSec: acked / SECONDS,
      pointsPerSec: (acked * points) / SECONDS,
      p50: result.latency.p50,
      p99: result.latency.p99,
      acked: acked * points,
      errors: result.non2xx + result.errors + result.timeouts,
    };
  };

  const baseline = await load('bare Express 5 JSON POST', bareUrl, 1);
  const single = await load('deligo, 1 point per request', apiUrl, 1);
  const batched = process.env.BENCH_ONLY_SINGLE ? { ...single, name: 'skipped' } : await load('deligo, 10 points per request', apiUrl, 10);

  const acked = single.acked + batched.acked;
  const stopped = Date.now();
  let stored = 0;
  while (Date.now() - stopped < 10_000) {
    stored = Number((await platform.db('rider_locations').count('* as n'))[0]!.n);
    if (stored >= acked) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const completeAfter = (Date.now() - stopped) / 1000;

  console.log(`\nbench/ingest  ${new Date().toISOString()}  ${machine()}`);
  console.log(`${SECONDS} s per run, ${CONNECTIONS} keep-alive connections, ${RIDERS} riders\n`);
  console.log('| run | requests/s | points/s | ack p50 (ms) | ack p99 (ms) | non-2xx |');
  console.log('|---|---|---|---|---|---|');
  for (const r of [baseline, single, batched]) {
    console.log(`| ${r.name} | ${fmt(r.requestsPerSec)} | ${fmt(r.pointsPerSec)} | ${r.p50} | ${r.p99} | ${r.errors} |`);
  }
  console.log(`\nsingle-point vs bare Express: ${fmt(single.requestsPerSec / baseline.requestsPerSec, 2)} × (target ≥ 0.7)`);
  console.log(`batches of 10 vs single points: ${fmt(batched.pointsPerSec / single.pointsPerSec, 2)} × points/s (target ≥ 3)`);
  console.log(`completeness: ${fmt(acked)} points acknowledged, ${fmt(stored)} in Postgres ${fmt(completeAfter, 1)} s after the load stopped`);
  if (workers) console.log(`location worker RSS: ${fmt(await workers.rssMb())} MB`);
} finally {
  await Promise.all([api.stop(), workers?.stop(), bare.stop()]);
  await services.stop();
}
