/**
 * bench/orders: `POST /v1/orders` at 500 orders/s through the real API process (with the orders
 * pool relaying each new order's outbox message), beside a bare Express 5 JSON POST at the same
 * rate, measured the same way in the same run.
 *
 *   npm run bench:orders        (BENCH_SECONDS=15 BENCH_ROUNDS=3 BENCH_ORDERS_PER_SECOND=500, ~2.5 min)
 *
 * Every request is a valid order (items, minimum order, drop-off within reach) from one of 1,000
 * customers, with its own Idempotency-Key, to a restaurant near 강남역. Target: p99 < 100 ms.
 *
 * How it is measured (bench/support/open-loop.ts): an open-loop generator in its own process sends
 * evenly paced requests and counts each latency from when the request was due; each phase has a
 * warm-up at the same rate; rounds alternate bare, deligo, bare, deligo…, and before every phase
 * the bench waits until the API, the worker, Redis, Postgres and the bare server are idle, so the
 * bare side never runs beside deligo's leftovers (relay, autovacuum, AOF rewrite). The CPU each
 * process used during each phase is printed, so that can be checked.
 */
import os from 'node:os';
import { seedCatalogue } from '../cli/commands/seed.ts';
import { signToken } from '../runtime/tokens.ts';
import { around, gangnamRestaurants, seeded } from './support/hot-spot.ts';
import { cpuTicks, ok, openLoop, settle, type OpenLoopRequest, type OpenLoopResult } from './support/open-loop.ts';
import { sharedCpuReader, startProcess } from './support/processes.ts';
import { machine, pgStatements, startBenchServices } from './support/services.ts';
import { fmt, median, quantile } from './support/stats.ts';
import { report } from './support/report.ts';
import { commitProbe, pgCounters, type PgCounters } from './support/pg-counters.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const RATE = Number(process.env.BENCH_ORDERS_PER_SECOND ?? 500);
const CUSTOMERS = 1_000;

const services = await startBenchServices();
const { platform, urls } = services;
const env = { REDIS_URL: urls.redisUrl, DATABASE_URL: urls.databaseUrl, NODE_ENV: 'test', LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1' };
// BENCH_PROFILE_API=dir writes a CPU profile of the API process there (open it in Chrome DevTools).
const api = startProcess('api/main.ts', [], env, process.env.BENCH_PROFILE_API ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_API}`] : []);
// BENCH_PROFILE_WORKER=dir does the same for the orders worker (the outbox relay).
const workers = startProcess('workers/main.ts', ['--pools', 'orders'], env, process.env.BENCH_PROFILE_WORKER ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_WORKER}`] : []);
const bare = startProcess('bench/support/bare-express.ts', [], {});

try {
  const apiUrl = await api.waitFor(/"url":"([^"]+)"/);
  const bareUrl = await bare.waitFor(/listening (\S+)/);
  await workers.waitFor(/workers ready/);
  await seedCatalogue(platform.db);
  const restaurants = await gangnamRestaurants(platform.db);
  const tokens = await Promise.all(Array.from({ length: CUSTOMERS }, (_, i) => signToken({ sub: `oc-${i}`, role: 'customer' }, platform.config.jwt)));
  // Users are created on first use; do that before the measured run.
  for (let i = 0; i < CUSTOMERS; i += 100) await Promise.all(tokens.slice(i, i + 100).map((t) => fetch(`${apiUrl}/v1/me`, { headers: { authorization: `Bearer ${t}` } }).then((r) => r.arrayBuffer())));
  const shared = await sharedCpuReader(platform.redis, platform.db);
  // Postgres's own commit cost on this machine: one row, one transaction, one WAL flush, 200 times.
  const probe = await commitProbe(platform.db, 200);

  const random = seeded(3);
  let next = 0;
  // Each phase gets fresh orders (new Idempotency-Keys); the bare handler gets the same kind of body.
  const orders = (n: number, path: string): OpenLoopRequest[] =>
    Array.from({ length: n }, () => {
      const i = next++;
      const r = restaurants[i % restaurants.length]!;
      const body = JSON.stringify({ restaurantId: r.id, items: [{ menuItemId: r.item, quantity: r.quantity }], dropoff: { ...around(random, r, 2_000), address: '서울 강남구 테헤란로 152' } });
      return { path, headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[i % CUSTOMERS]!}`, 'idempotency-key': `bench-${i}` }, body };
    });

  const cpuOf = { bare: () => bare.cpuSeconds(), api: () => api.cpuSeconds(), worker: () => workers.cpuSeconds(), redis: async () => (await shared()).redis, postgres: async () => (await shared()).postgres };
  type Cpu = Record<keyof typeof cpuOf, number>;
  const readCpu = async (): Promise<Cpu> => ({ bare: await cpuOf.bare(), api: await cpuOf.api(), worker: await cpuOf.worker(), ...(await shared().then((s) => ({ redis: s.redis, postgres: s.postgres }))) });
  interface Phase {
    side: 'bare' | 'deligo';
    round: number;
    result: OpenLoopResult;
    /** CPU seconds each process used over the phase (warm-up included) and until idle again after it. */
    cpu: Cpu;
    /** Cores our processes used in the second before the phase began. */
    idleBefore: number;
    steal: number;
    machineBusyCores: number;
    loadavg: number;
    pg?: PgCounters;
    groups?: GroupCommitFigures;
    written?: number;
  }
  const phases: Phase[] = [];
  const phase = async (side: Phase['side'], round: number) => {
    const idleBefore = await settle(Object.values(cpuOf));
    const [cpu, ticks, pgBefore, rowsBefore, groupsBefore] = [await readCpu(), await cpuTicks(), await pgCounters(platform.db), await countOrders(), await groupCommits(apiUrl)];
    const url = side === 'bare' ? bareUrl : apiUrl;
    const result = await openLoop(url, orders(RATE * (WARMUP + SECONDS), side === 'bare' ? '/v1/riders/me/locations' : '/v1/orders'), { rate: RATE, seconds: SECONDS, warmupSeconds: WARMUP });
    const ticksAfter = await cpuTicks();
    // CPU is read once the relay has drained what the phase left, so it is all counted per order.
    await settle(Object.values(cpuOf));
    const [cpuAfter, pgAfter, groupsAfter] = [await readCpu(), await pgCounters(platform.db), await groupCommits(apiUrl)];
    const elapsed = (ticksAfter.total - ticks.total) / 100 / os.cpus().length;
    phases.push({
      side,
      round,
      result,
      cpu: Object.fromEntries(Object.keys(cpu).map((k) => [k, cpuAfter[k as keyof Cpu] - cpu[k as keyof Cpu]])) as Cpu,
      idleBefore,
      steal: (ticksAfter.steal - ticks.steal) / Math.max(1, ticksAfter.total - ticks.total),
      machineBusyCores: (ticksAfter.busy - ticks.busy) / 100 / Math.max(0.001, elapsed),
      loadavg: os.loadavg()[0]!,
      ...(side === 'deligo' ? { pg: pgAfter.minus(pgBefore), groups: minus(groupsAfter, groupsBefore), written: (await countOrders()) - rowsBefore } : {}),
    });
  };
  async function countOrders() {
    return Number((await platform.db('orders').count('* as n'))[0]!.n);
  }
  // BENCH_PG_STATEMENTS=1: Postgres counts every statement from here on (printed per order below).
  await pgStatements(platform.db, true);
  for (let round = 1; round <= ROUNDS; round++) {
    await phase('bare', round);
    await phase('deligo', round);
  }

  const sent = RATE * (WARMUP + SECONDS);
  console.log(`\nbench/orders  ${new Date().toISOString()}  ${machine()}`);
  console.log(`${fmt(RATE)} requests/s, ${ROUNDS} rounds of ${WARMUP} s warm-up + ${SECONDS} s measured per side, open loop from its own process (keep-alive, up to 64 sockets, latency from when each request was due), ${fmt(CUSTOMERS)} customers, ${restaurants.length} restaurants near 강남역`);
  console.log(`Postgres commit on this machine (one-row INSERT, autocommit, 200 times): p50 ${fmt(probe.p50, 2)} / p99 ${fmt(probe.p99, 2)} / max ${fmt(probe.max, 2)} ms\n`);
  console.log('| round | run | p50 (ms) | p99 (ms) | max (ms) | non-2xx | sent late p99 (ms) | generator loop delay max (ms) | server CPU per request (µs) | CPU of the other processes (cores) | idle before (cores) | steal | machine busy (cores) | load |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const p of phases) {
    const r = p.result;
    const server = p.side === 'bare' ? p.cpu.bare : p.cpu.api;
    const others = Object.entries(p.cpu).filter(([k]) => k !== (p.side === 'bare' ? 'bare' : 'api')).reduce((a, [, v]) => a + v, 0) / (WARMUP + SECONDS);
    console.log(
      `| ${p.round} | ${p.side === 'bare' ? 'bare Express 5 JSON POST' : 'deligo POST /v1/orders'} | ${fmt(quantile(r.latencies, 0.5), 1)} | ${fmt(quantile(r.latencies, 0.99), 1)} | ${fmt(Math.max(...r.latencies), 1)} | ${r.latencies.length - ok(r)} | ${fmt(r.sentLate.p99, 1)} | ${fmt(r.generatorLoopDelayMs.max, 1)} | ${fmt((server * 1e6) / sent)} | ${fmt(others, 2)} | ${fmt(p.idleBefore, 2)} | ${fmt(p.steal * 100, 1)} % | ${fmt(p.machineBusyCores, 2)} | ${fmt(p.loadavg, 1)} |`,
    );
  }
  const side = (s: Phase['side']) => phases.filter((p) => p.side === s);
  const med = (s: Phase['side'], f: (p: Phase) => number) => median(side(s).map(f));
  const pooled = (s: Phase['side']) => side(s).flatMap((p) => p.result.latencies);
  const p99 = (p: Phase) => quantile(p.result.latencies, 0.99);
  const p50 = (p: Phase) => quantile(p.result.latencies, 0.5);
  const failed = side('deligo').reduce((n, p) => n + p.result.latencies.length - ok(p.result), 0);
  const perOrder = (f: (p: Phase) => number) => med('deligo', (p) => (f(p) * 1e6) / sent);
  console.log(`\nmedian of ${ROUNDS} rounds: bare p50 ${fmt(med('bare', p50), 1)} / p99 ${fmt(med('bare', p99), 1)} ms; deligo p50 ${fmt(med('deligo', p50), 1)} / p99 ${fmt(med('deligo', p99), 1)} ms`);
  console.log(`all rounds pooled: bare p99 ${fmt(quantile(pooled('bare'), 0.99), 1)} ms; deligo p99 ${fmt(quantile(pooled('deligo'), 0.99), 1)} ms`);
  console.log(`CPU per order (median of rounds, µs): API ${fmt(perOrder((p) => p.cpu.api))}, orders worker ${fmt(perOrder((p) => p.cpu.worker))}, Postgres ${fmt(perOrder((p) => p.cpu.postgres))}, Redis ${fmt(perOrder((p) => p.cpu.redis))}; bare Express per request ${fmt(med('bare', (p) => (p.cpu.bare * 1e6) / sent))}`);
  const pg = side('deligo').map((p) => p.pg!);
  console.log(`Postgres per phase (median): ${fmt(median(pg.map((c) => sent / Math.max(1, c.commits))), 1)} orders per commit, ${fmt(median(pg.map((c) => c.walFsyncs / Math.max(1, c.commits))), 2)} WAL fsyncs per commit, WAL fsync ${fmt(median(pg.map((c) => c.walFsyncMs / Math.max(1, c.walFsyncs))), 2)} ms on average`);
  console.log(`WAL per phase (median): ${fmt(median(pg.map((c) => c.walBytes / sent)))} bytes and ${fmt(median(pg.map((c) => c.walFpi / sent)), 2)} full-page images per order; checkpoints during the deligo phases: ${pg.map((c) => fmt(c.checkpoints)).join(', ')}`);
  const groups = side('deligo').map((p) => p.groups!);
  console.log(
    `group commit per phase (median): ${fmt(median(groups.map((g) => g.count)))} batches, ${fmt(median(groups.map((g) => g.size / Math.max(1, g.count))), 1)} orders per batch, a batch waited ${fmt(median(groups.map((g) => (g.waitSeconds * 1e3) / Math.max(1, g.count))), 2)} ms for a slot and took ${fmt(median(groups.map((g) => (g.seconds * 1e3) / Math.max(1, g.count))), 2)} ms on average`,
  );
  for (const p of phases.filter((p) => p.result.firstFailure)) console.log(`round ${p.round} ${p.side}: statuses ${JSON.stringify(p.result.statuses)}, ${p.result.errors} socket errors; first failure: ${p.result.firstFailure}`);
  console.log(`orders written: ${side('deligo').map((p) => `${fmt(p.written!)} for ${fmt(ok(p.result))} measured 201 (+${fmt(RATE * WARMUP)} warm-up)`).join('; ')}`);
  const statements = await pgStatements(platform.db);
  if (statements) {
    const placed = side('deligo').reduce((n, p) => n + (p.written ?? 0), 0);
    console.log(`\nPostgres statements over the run, costliest first, per order placed (${fmt(placed)} orders; BENCH_PG_STATEMENTS=1):`);
    console.log('| calls per order | µs per order | rows per call | statement |\n|---|---|---|---|');
    for (const st of statements.slice(0, 15)) console.log(`| ${fmt(st.calls / placed, 3)} | ${fmt((st.ms * 1e3) / placed, 1)} | ${fmt(st.rows / Math.max(1, st.calls), 1)} | \`${st.query.replaceAll('|', '\\|')}\` |`);
  }
  const verdict = med('deligo', p99);
  report({ bench: 'orders', metric: 'p99', label: `POST /v1/orders p99 at ${fmt(RATE)}/s (open loop, median of ${ROUNDS} rounds)`, value: verdict, unit: 'ms', baseline: med('bare', p99), baselineLabel: 'bare Express 5 JSON POST, same generator, same run', target: 'p99 < 100 ms', met: verdict < 100 && failed === 0 });
  report({ bench: 'orders', metric: 'p50', label: `POST /v1/orders p50 at ${fmt(RATE)}/s`, value: med('deligo', p50), unit: 'ms', baseline: med('bare', p50), baselineLabel: 'bare Express 5 JSON POST, same generator, same run' });
  report({ bench: 'orders', metric: 'api-cpu-per-order', label: 'API CPU per order placed', value: perOrder((p) => p.cpu.api), unit: 'µs', baseline: med('bare', (p) => (p.cpu.bare * 1e6) / sent), baselineLabel: 'bare Express 5 JSON POST' });
  report({ bench: 'orders', metric: 'worker-cpu-per-order', label: 'orders worker (outbox relay) CPU per order placed', value: perOrder((p) => p.cpu.worker), unit: 'µs' });
  report({ bench: 'orders', metric: 'postgres-cpu-per-order', label: 'Postgres CPU per order placed', value: perOrder((p) => p.cpu.postgres), unit: 'µs' });
  console.log(`load average at the end (1/5 min): ${os.loadavg().slice(0, 2).map((n) => n.toFixed(1)).join(' / ')}`);
} finally {
  await Promise.all([api.stop(), workers.stop(), bare.stop()]);
  await services.stop();
}
interface GroupCommitFigures {
  count: number;
  size: number;
  waitSeconds: number;
  seconds: number;
}

/** The orders writer's group-commit totals so far, from the API's /metrics. */
async function groupCommits(apiUrl: string): Promise<GroupCommitFigures> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name}\\{name="orders"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { count: value('deligo_group_commit_size_count'), size: value('deligo_group_commit_size_sum'), waitSeconds: value('deligo_group_commit_wait_seconds_sum'), seconds: value('deligo_group_commit_seconds_sum') };
}

function minus(a: GroupCommitFigures, b: GroupCommitFigures): GroupCommitFigures {
  return { count: a.count - b.count, size: a.size - b.size, waitSeconds: a.waitSeconds - b.waitSeconds, seconds: a.seconds - b.seconds };
}

// A connection left open must never keep the benchmark (and the shared bench lock) alive.
process.exit(process.exitCode ?? 0);
