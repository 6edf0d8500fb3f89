/**
 * bench/dispatch: seed 000's hot spot. 50,000 riders loaded (1,000 available within 1 km of
 * 강남역), orders from restaurants near the station accepted at 10,000 a minute for 60 s through
 * the real API; each acceptance goes through the outbox relay to `dispatch.match` on the real
 * dispatch pool. Simulated riders answer their offers through the API (most accept, some reject,
 * some let them time out).
 *
 *   npm run bench:dispatch      (BENCH_SECONDS=60 BENCH_ORDERS_PER_MINUTE=10000 by default)
 *
 * Reports dispatch request (the `dispatch.match` job enqueued) → first offer written (over the
 * minute and by 5 s window), and restaurant accepts → first offer, from the tables' own
 * timestamps; checks in Postgres at the end
 * that no rider holds two orders; and measures raw BullMQ add → process at the same rate in the
 * same run as the baseline.
 *
 * The outside world runs in this process, at the same CPU priority as the product (its CPU is
 * printed as "bench process" and counted in every per-match total): the restaurants' acceptances
 * (open loop, on schedule), the riders' phones (a poll of pending offers twice a second, each offer
 * answered 0.5–3 s after it was written, tokens issued before the rush as a login would) and their
 * fixes (every 20 s for riders dispatch here could reach, none while a rider holds an order). A lower priority
 * was left out on purpose: on a saturated box it would starve the generator, which would then send
 * fewer acceptances than asked and flatter the figures.
 */
import { Queue, Worker } from 'bullmq';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { seedCatalogue } from '../cli/commands/seed.ts';
import { createCandidateFacts } from '../dispatch/candidate-facts.ts';
import { createOfferHolds } from '../dispatch/offer-holds.ts';
import { createLiveLocation } from '../location/live-location.ts';
import { createOrderPlacer } from '../orders/place-order.ts';
import { QUEUES } from '../runtime/queue-registry.ts';
import { signToken } from '../runtime/tokens.ts';
import { DEFAULT_MAX_DISTANCE_M } from '../db/rider-profiles-repository.ts';
import { around, gangnamRestaurants, keepFresh, loadRiders, paced, RESTAURANTS_WITHIN_M, seeded } from './support/hot-spot.ts';
import { createPoster } from './support/http-post.ts';
import { sharedCpuReader, sharedCpuUsed, startProcess } from './support/processes.ts';
import { machine, pgStatements, startBenchServices } from './support/services.ts';
import { followMatchEvents } from './support/match-events.ts';
import { startRiders } from './support/riders.ts';
import { fmt, quantile } from './support/stats.ts';
import { report } from './support/report.ts';
import { commandStatsBetween, redisCommandStats, redisTotals, startScriptLog } from './support/redis-commands.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const PER_MINUTE = Number(process.env.BENCH_ORDERS_PER_MINUTE ?? 10_000);
const RATE = PER_MINUTE / 60;
const ORDERS = Math.round(RATE * SECONDS);
const RIDERS = 50_000;
const HOT = 1_000;
/** How the simulated riders answer: accept, reject, or let the offer run out. */
const ACCEPT = 0.7;
const REJECT = 0.2;
/**
 * How long a delivery takes after the rider accepts, in seconds (uniform between the two), or
 * `none`: the rider stays busy for the rest of the run.
 *
 * Default `4-8`, compressed time. Seed 000 says a delivery takes 30 minutes on average and a rider
 * carries one order, so during the bench's 60 s a rider who accepted would really stay busy
 * (`none` models that). But seed 000's peak lasts an hour (10만건/분 from 12 to 1): in its steady
 * state, deliveries accepted half an hour earlier finish as fast as new ones are accepted, and each
 * brings its four status changes (ready, picked up, on the way, delivered) through the same API
 * statements, relay and notifications. `4-8` keeps that load, which is most of the work a peak
 * minute costs beside the matching itself; `none` leaves it out and so measures an easier minute,
 * the first minute of a peak. Both are reported in docs/benchmarks.md.
 */
const DELIVERY_MODE = process.env.BENCH_DELIVERY_SECONDS ?? '4-8';
const DELIVERY_SECONDS = DELIVERY_MODE === 'none' ? undefined : (DELIVERY_MODE.split('-').map(Number) as [number, number]);

/**
 * Redis's time by Lua script from now on (support/redis-commands.ts: startScriptLog), with the
 * scripts named: this process's connection defines deligo's (the dispatch and location code's)
 * here, and BullMQ's from the baseline queue.
 */
async function startDispatchScriptLog(redis: import('ioredis').Redis) {
  createOfferHolds(redis, config.queuePrefix);
  // Imported here, so this file also runs against a tree from before the script existed (before/after pairs).
  const search = await import('../dispatch/candidate-search.ts').catch(() => undefined);
  search?.scriptedCandidateSearch(redis, createLiveLocation(redis, config.queuePrefix).keys, createCandidateFacts(db, redis, config.queuePrefix), config.queuePrefix);
  return startScriptLog(redis);
}

const services = await startBenchServices();
const { platform, urls } = services;
// Busy API and dispatch processes get 30 Postgres connections each (DATABASE_POOL_MAX) instead of 10.
const env = { REDIS_URL: urls.redisUrl, DATABASE_URL: urls.databaseUrl, NODE_ENV: 'test', LOG_LEVEL: 'warn', PORT: '0', HOST: '127.0.0.1', DATABASE_POOL_MAX: process.env.BENCH_POOL_MAX ?? '30' };
// Notification sends run in their own pool and processes; here they wait in their queues, so the two
// shared cores go to what this measures (bench/notifications measures sending).
// BENCH_PROFILE_WORKER=dir / BENCH_PROFILE_API=dir write CPU profiles of those processes there.
const profile = (dir: string | undefined) => (dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []);
const api = startProcess('api/main.ts', [], { ...env, LOG_LEVEL: 'info' }, profile(process.env.BENCH_PROFILE_API));
const workers = startProcess('workers/main.ts', ['--pools', process.env.BENCH_POOLS ?? 'orders,dispatch'], { ...env, LOG_LEVEL: 'info' }, profile(process.env.BENCH_PROFILE_WORKER));
const { db, redis, config } = platform;
// Warnings and errors of the API and worker processes, shown at the end.
const problems: string[] = [];
for (const [name, proc] of [['api', api], ['workers', workers]] as const) {
  proc.child.stdout!.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (/"level":(4|5|6)0/.test(line) && problems.length < 20) problems.push(`${name}: ${line.slice(0, 400)}`);
  });
  proc.child.stderr!.on('data', (chunk: Buffer) => void (problems.length < 20 && problems.push(`${name} stderr: ${chunk.toString().slice(0, 400)}`)));
}
const ms = (sql: string) => `extract(epoch from (${sql})) * 1000`;
let fresh: { stop(): Promise<void> } | undefined;

try {
  const apiUrl = await api.waitFor(/"url":"([^"]+)"/);
  await workers.waitFor(/workers ready/);
  await seedCatalogue(db);
  const restaurants = await gangnamRestaurants(db);
  const live = createLiveLocation(redis, config.queuePrefix);
  // Kept fresh: the riders any order here could be offered to. The restaurants are within 1 km of
  // the station, and no search reaches farther than the farthest any rider rides to a pickup (3 km
  // unless a profile says more: db/rider-profiles-repository.ts); 500 m spare. Fixes from riders
  // farther off are read by nothing this measures (bench/ingest and bench/sustained measure them).
  const nearGangnam = await loadRiders(redis, live, { total: RIDERS, hot: HOT, prefix: 'br-', keepFreshMeters: RESTAURANTS_WITHIN_M + DEFAULT_MAX_DISTANCE_M + 500 });
  // Every 20 s: a rider stays fresh for 30 s (location/nearby-search.ts: FRESH_MS), and a fix
  // re-sent more often changes nothing dispatch reads; it only charged the location code's cost
  // (measured by bench/sustained) to each match. A rider holding an order is busy, out of the geo
  // index and read by nothing here until delivered, so their fixes are left out meanwhile; the
  // one before their DELIVERED makes them fresh again for the pool they go back to.
  // Dispatch caches each rider's profile in Redis the first time a search finds them (one Postgres
  // read per rider, ever: dispatch/candidate-facts.ts). A service that has been running holds every
  // active rider's; this run starts from an empty Redis, so the riders who can be offered work are
  // read once now instead of one statement per new face during the rush.
  const warm = createCandidateFacts(db, redis, config.queuePrefix);
  for (let i = 0; i < nearGangnam.length; i += 500) await warm.read('bench-warm-up', nearGangnam.slice(i, i + 500).map((p) => p.riderId), Date.now());
  const holding = new Set<string>();
  fresh = keepFresh(live, nearGangnam, 20_000, { skip: (riderId) => holding.has(riderId) });

  // Orders placed beforehand through the real placer; what is measured is their acceptance.
  const random = seeded(7);
  const place = createOrderPlacer(db);
  const orderIds: string[] = [];
  const orderRestaurant: string[] = [];
  for (let i = 0; i < ORDERS; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, ORDERS - i) }, async (_, j) => {
        const r = restaurants[(i + j) % restaurants.length]!;
        const result = await place({ customerId: `bc-${i + j}`, restaurantId: r.id, items: [{ menuItemId: r.item, quantity: r.quantity }], dropoff: { ...around(random, r, 2_000), address: '강남구 테헤란로 1' } });
        if (result.kind !== 'created') throw new Error(`placing failed: ${JSON.stringify(result)}`);
        return [result.order.id, r.id] as const;
      }),
    );
    for (const [id, rid] of batch) orderIds.push(id), orderRestaurant.push(rid);
  }
  await platform.queues.get('orders').add('orders.outbox-relay', {});
  while (Number((await db('outbox').count('* as n'))[0]!.n) > 0) await sleep(200);
  const restaurantOf = new Map(orderIds.map((id, i) => [id, orderRestaurant[i]!]));
  // Requests from this process go through node's http client, not fetch: see support/http-post.ts.
  const post = createPoster(apiUrl, { sockets: 256 });
  const restaurantTokens = new Map(await Promise.all(restaurants.map(async (r) => [r.id, await signToken({ sub: r.id, role: 'restaurant' }, config.jwt)] as const)));

  // Baseline: raw BullMQ add → process at the same rate, with the dispatch pool's concurrency.
  const rawQueue = new Queue('bench-raw-dispatch', { connection: redis, prefix: 'bench' });
  const raw: number[] = [];
  const rawWorker = new Worker(rawQueue.name, async (job) => void raw.push(Date.now() - job.timestamp), { connection: platform.workerConnection(), prefix: 'bench', concurrency: Math.min(50, Number(env.DATABASE_POOL_MAX)) });
  const baselineSeconds = Math.min(SECONDS, 15);
  await paced(Math.round(RATE * baselineSeconds), RATE, () => rawQueue.add('match', { orderId: 'x' }, { removeOnComplete: true }));
  while (raw.length < Math.round(RATE * baselineSeconds)) await sleep(50);
  await rawWorker.close();
  await rawQueue.obliterate({ force: true });
  await rawQueue.close();

  // Riders' phones and the kitchens' tablets after the acceptance (support/riders.ts): offers
  // answered through the API, accepted orders delivered, riders free again.
  const riders = await startRiders({
    db,
    live,
    post,
    apiUrl,
    jwt: config.jwt,
    riders: nearGangnam,
    holding,
    answer: { accept: ACCEPT, reject: REJECT },
    deliverySeconds: DELIVERY_SECONDS,
    restaurantTokenOf: (orderId) => restaurantTokens.get(restaurantOf.get(orderId)!)!,
  });
  const { answers, delivered } = riders;

  // Every finished `dispatch.match`'s queue wait, processing time and steps (support/match-events.ts).
  const { queued, took, steps, stop: stopEvents } = await followMatchEvents(redis, `${config.queuePrefix}:${QUEUES.dispatch.name}:events`);

  // The measured phase: restaurants accept at RATE per second; each acceptance triggers dispatch.
  const acceptLatency: number[] = [];
  let acceptErrors = 0;
  const started = Date.now();
  // BENCH_DIAGNOSE=1: what Postgres sessions are doing, every 2 s of the measured phase.
  const diagnose = process.env.BENCH_DIAGNOSE
    ? setInterval(async () => {
        const { rows } = await db.raw(`SELECT state, wait_event_type AS type, wait_event AS event, count(*)::int AS n, max(extract(epoch from now() - query_start))::numeric(8,2) AS oldest, left(min(query), 90) AS query FROM pg_stat_activity WHERE backend_type = 'client backend' GROUP BY 1, 2, 3 ORDER BY n DESC`);
        console.log(new Date().toISOString(), JSON.stringify(rows));
      }, 2_000)
    : undefined;
  const workerCpuBefore = await workers.cpuSeconds();
  const apiCpuBefore = await api.cpuSeconds();
  // Redis, Postgres and this process (riders, deliveries, fixes) share the two cores too: their CPU
  // per match counts, and the whole machine's busy time shows what other work took.
  const others = await sharedCpuReader(redis, db);
  const othersBefore = await others();
  await pgStatements(db, true);
  // BENCH_REDIS_SCRIPTS=1: which Lua scripts Redis spent its time in (every run of 20 µs or more, by
  // script; its slow log holds each run's time, and every script's SHA is known from its text).
  const scriptLog = process.env.BENCH_REDIS_SCRIPTS ? await startDispatchScriptLog(redis) : undefined;
  const commandsBefore = await redisCommandStats(redis);
  const totalsBefore = await redisTotals(redis);
  await paced(ORDERS, RATE, async (i) => {
    const t = performance.now();
    try {
      const res = await post(`/v1/orders/${orderIds[i]}/transitions`, { 'content-type': 'application/json', authorization: `Bearer ${restaurantTokens.get(orderRestaurant[i]!)}` }, JSON.stringify({ to: 'COOKING', cookMinutes: 15 }));
      if (res.status === 200) acceptLatency.push(performance.now() - t);
      else acceptErrors++;
    } catch {
      acceptErrors++;
    }
  });
  // Orders settled: a dispatch that has made an offer or ended. Read as those still waiting for a
  // first offer (a few rows through the index on offers' orders), not by testing all 10,000 twice a
  // second: this runs in the measured window, and its Postgres time counts against every match.
  const settled = async () => {
    const { opened, waiting } = (
      await db.raw(`SELECT (SELECT count(*) FROM dispatches)::int AS opened,
                           (SELECT count(*) FROM dispatches d WHERE d.status IN ('SEARCHING', 'OFFERED')
                               AND NOT EXISTS (SELECT 1 FROM dispatch_offers o WHERE o.order_id = d.order_id))::int AS waiting`)
    ).rows[0] as { opened: number; waiting: number };
    return opened - waiting;
  };
  // Let the last acceptances reach their first offer (or give up after the widening rounds).
  clearInterval(diagnose);
  const drainDeadline = Date.now() + 45_000;
  while (Date.now() < drainDeadline && (await settled().catch(() => 0)) < ORDERS) await sleep(500);
  const elapsed = (Date.now() - started) / 1_000;
  const workerCpu = (await workers.cpuSeconds()) - workerCpuBefore;
  const apiCpu = (await api.cpuSeconds()) - apiCpuBefore;
  const othersAfter = await others();
  const used = sharedCpuUsed(othersBefore, othersAfter);
  const statements = await pgStatements(db);
  // Postgres's background work over the run (counted in its CPU): autovacuum and autoanalyze by
  // table, and buffers written or evicted by whom (a backend writing out dirty pages itself would
  // slow every statement once shared_buffers filled up).
  const maintenance = (await db.raw(`SELECT relname, autovacuum_count::int AS vacuums, autoanalyze_count::int AS analyzes FROM pg_stat_user_tables WHERE autovacuum_count + autoanalyze_count > 0 ORDER BY relname`)).rows as Array<{ relname: string; vacuums: number; analyzes: number }>;
  const io = (await db.raw(`SELECT backend_type AS who, sum(writes)::bigint AS writes, sum(evictions)::bigint AS evictions FROM pg_stat_io WHERE object = 'relation' GROUP BY 1 HAVING sum(writes) + sum(evictions) > 0`)).rows as Array<{ who: string; writes: string; evictions: string }>;
  // Row updates by table, and how many were in place (HOT: no index entry written); counted since
  // the start, so the order placing before the phase is in it (inserts only).
  const updates = (await db.raw(`SELECT relname, n_tup_upd::int AS updated, n_tup_hot_upd::int AS hot FROM pg_stat_user_tables WHERE n_tup_upd > 0 ORDER BY n_tup_upd DESC`)).rows as Array<{ relname: string; updated: number; hot: number }>;
  const commandsAfter = await redisCommandStats(redis);
  const scriptTimes = await scriptLog?.();
  const totalsAfter = await redisTotals(redis);
  await riders.stop();
  await stopEvents();
  await fresh.stop();
  fresh = undefined;

  const rows = await db.raw<{ rows: Array<{ request_ms: string | null; accept_ms: string | null; hop_ms: string; widened: boolean; at_ms: string }> }>(`
    SELECT ${ms('min(o.created_at) - d.created_at')} AS request_ms,
           ${ms("d.created_at - 'epoch'::timestamptz")} AS at_ms,
           ${ms('min(o.created_at) - e.at')} AS accept_ms,
           ${ms('d.created_at - e.at')} AS hop_ms,
           EXISTS (SELECT 1 FROM dispatch_events w WHERE w.order_id = d.order_id AND w.type = 'widened' AND w.at < min(o.created_at)) AS widened
      FROM dispatches d
      JOIN order_events e ON e.order_id = d.order_id AND e.to_status = 'COOKING'
      LEFT JOIN dispatch_offers o ON o.order_id = d.order_id
     GROUP BY d.order_id, d.created_at, e.at`);
  const firstRound = rows.rows.filter((r) => r.request_ms !== null && !r.widened);
  const later = rows.rows.filter((r) => r.request_ms !== null && r.widened);
  const none = rows.rows.filter((r) => r.request_ms === null);
  const request = firstRound.map((r) => Number(r.request_ms));
  // Where in the minute the slow ones were, by when their dispatch was requested: a short episode
  // shows as one or two windows, a machine too slow for the rate as a backlog growing to the end.
  const windows = new Map<number, number[]>();
  for (const r of firstRound) {
    const at = Math.floor((Number(r.at_ms) - started) / 5_000);
    const list = windows.get(at) ?? windows.set(at, []).get(at)!;
    list.push(Number(r.request_ms));
  }
  const accept = firstRound.map((r) => Number(r.accept_ms));
  const hop = rows.rows.map((r) => Number(r.hop_ms));
  const twoOrders = (await db.raw(`SELECT count(*) AS n FROM (SELECT rider_id FROM orders WHERE rider_id IS NOT NULL AND status NOT IN ('DELIVERED','CANCELLED','REJECTED') GROUP BY rider_id HAVING count(*) > 1) x`)).rows[0].n;
  // Riders deliver and take the next order, so two accepted offers are fine one after the other:
  // what must never be is two accepted offers whose orders are both still open.
  const twoAccepted = (await db.raw(`SELECT count(*) AS n FROM (SELECT o.rider_id FROM dispatch_offers o JOIN orders ON orders.id = o.order_id WHERE o.status = 'ACCEPTED' AND orders.status NOT IN ('DELIVERED','CANCELLED','REJECTED') GROUP BY o.rider_id HAVING count(*) > 1) x`)).rows[0].n;
  const twoPending = (await db.raw(`SELECT count(*) AS n FROM (SELECT rider_id FROM dispatch_offers WHERE status = 'PENDING' GROUP BY rider_id HAVING count(*) > 1) x`)).rows[0].n;
  const statuses = Object.fromEntries((await db('dispatches').groupBy('status').select('status').count('* as n')).map((r) => [r.status, Number(r.n)]));
  const assigned = Number((await db('orders').whereNotNull('rider_id').count('* as n'))[0]!.n);
  const offers = Number((await db('dispatch_offers').count('* as n'))[0]!.n);

  const row = (name: string, xs: number[], target = '') => `| ${name} | ${fmt(xs.length)} | ${fmt(quantile(xs, 0.5), 1)} | ${fmt(quantile(xs, 0.99), 1)} | ${fmt(Math.max(...xs), 1)} | ${target} |`;
  console.log(`\nbench/dispatch  ${new Date().toISOString()}  ${machine()}`);
  console.log(`${fmt(RIDERS)} riders (${fmt(HOT)} within 1 km of 강남역), ${restaurants.length} restaurants near the station; ${fmt(ORDERS)} acceptances at ${fmt(RATE, 1)}/s for ${SECONDS} s`);
  console.log(`riders answer: ${ACCEPT * 100}% accept, ${REJECT * 100}% reject after 0.5–3 s, the rest let the offer time out (${config.dispatch.offerTimeoutMs / 1_000} s)\n`);
  console.log('| measure | n | p50 (ms) | p99 (ms) | max (ms) | target |');
  console.log('|---|---|---|---|---|---|');
  console.log(row('dispatch request → first offer written (first round)', request, 'p99 < 250'));
  console.log(row('restaurant accepts → first offer written (first round)', accept, '매칭 < 2 s'));
  console.log(row('restaurant accepts → dispatch.match starts (outbox relay + queue)', hop));
  console.log(row('restaurant accept request (HTTP, API process)', acceptLatency));
  console.log(row('dispatch.match: queue wait (first match of each order)', queued));
  console.log(row('dispatch.match: processing time (every match)', took));
  for (const name of ['open', 'search', 'facts', 'claim', 'offer', 'after']) if (steps.has(name)) console.log(row(`dispatch.match step: ${name}`, steps.get(name)!));
  console.log(row('baseline: raw BullMQ add → process at the same rate', raw));
  const byWindow = [...windows].sort((a, b) => a[0] - b[0]).map(([w, xs]) => `${w * 5}s ${fmt(quantile(xs, 0.99))}`);
  console.log(`\nrequest → first offer p99 (ms) by 5 s window of dispatch requests, from the start of the acceptances: ${byWindow.join(', ')}`);
  console.log(`Postgres buffers written / evicted since the start: ${io.map((r) => `${r.who} ${r.writes} / ${r.evictions}`).join(', ') || 'none'}`);
  console.log(`row updates since the start, of them in place (HOT): ${updates.map((u) => `${u.relname} ${fmt(u.updated)} (${fmt(u.hot)})`).join(', ') || 'none'}`);
  console.log(`autovacuum / autoanalyze runs since the start: ${maintenance.map((m) => `${m.relname} ${m.vacuums}/${m.analyzes}`).join(', ') || 'none'}`);
  console.log(`first offer only after a widening round (no free rider in reach): ${fmt(later.length)}; no offer at all: ${fmt(none.length)}${later.length ? `; their request → first offer p50 ${fmt(quantile(later.map((r) => Number(r.request_ms)), 0.5))} ms` : ''}`);
  console.log(`dispatches by status: ${JSON.stringify(statuses)}; offers ${fmt(offers)}; orders with a rider ${fmt(assigned)}; accept errors ${acceptErrors}; run ${fmt(elapsed, 1)} s`);
  console.log(`rider answers: ${JSON.stringify(answers)}; deliveries completed ${fmt(delivered.orders)} (errors ${delivered.errors}), ${DELIVERY_SECONDS ? `each ${DELIVERY_SECONDS.join('–')} s after the accept` : 'none: riders stay busy for the rest of the run (BENCH_DELIVERY_SECONDS=none)'}`);
  const perMatch = (seconds: number) => fmt((seconds * 1e6) / Math.max(1, took.length));
  const cpu = { worker: workerCpu, API: apiCpu, Redis: used.redis, Postgres: used.postgres, 'bench process': used.bench };
  const ours = Object.values(cpu).reduce((a, b) => a + b, 0);
  console.log(`CPU over the measured phase and drain (${fmt(elapsed, 1)} s): ${Object.entries(cpu).map(([k, v]) => `${k} ${fmt(v, 1)} s`).join(', ')}; the machine ${fmt(used.machine, 1)} s busy of ${fmt(elapsed * os.cpus().length, 1)} s (other work ${fmt(Math.max(0, used.machine - ours), 1)} s)`);
  console.log(`CPU per dispatch.match run (${fmt(took.length)}): ${Object.entries(cpu).map(([k, v]) => `${k} ${perMatch(v)} µs`).join(', ')}; all five ${perMatch(ours)} µs`);
  console.log(`riders holding two active orders (orders table): ${twoOrders}; riders with two accepted offers on open orders: ${twoAccepted}; riders with two pending offers: ${twoPending} (target 0)`);
  // The summary table (npm run bench:capacity) shows the issue's setup with riders delivering: a
  // shorter run, another rate or riders staying busy is recorded under its own name.
  const issueSetup = SECONDS >= 60 && PER_MINUTE === 10_000;
  const metric = !issueSetup ? 'offer-p99-trial' : DELIVERY_SECONDS ? 'offer-p99' : 'offer-p99-riders-busy';
  report({ bench: 'dispatch', metric, label: `dispatch request → first offer p99 at ${fmt(RATE, 1)} acceptances/s for ${SECONDS} s, ${DELIVERY_SECONDS ? `riders delivering (${DELIVERY_SECONDS.join('–')} s)` : 'riders staying busy'}`, value: quantile(request, 0.99), unit: 'ms', baseline: quantile(raw, 0.99), baselineLabel: 'raw BullMQ add → process, same rate', target: 'p99 < 250 ms', met: quantile(request, 0.99) < 250 });
  report({ bench: 'dispatch', metric: 'double-assignments', label: 'riders holding two active orders or two accepted offers', value: Number(twoOrders) + Number(twoAccepted), unit: 'riders', target: '0', met: Number(twoOrders) + Number(twoAccepted) === 0 });
  report({ bench: 'dispatch', metric: 'worker-cpu-per-dispatch', label: 'orders + dispatch worker CPU per dispatched order', value: (workerCpu * 1e6) / Math.max(1, Object.values(statuses).reduce((a: number, b) => a + Number(b), 0)), unit: 'µs' });
  if (statements) console.log(`\nPostgres statements over the measured phase and drain (BENCH_PG_STATEMENTS=1), costliest first:\n${statements.map((r) => `${fmt(r.calls).padStart(8)} calls ${fmt(r.ms).padStart(7)} ms${r.planMs > 0 ? ` (planning ${fmt(r.planMs)})` : ''} ${fmt(r.rows).padStart(8)} rows  ${r.query}`).join('\n')}`);
  // What Redis ran per match (BullMQ's scripts as evalsha; their inner commands again by name).
  const commands = commandStatsBetween(commandsBefore, commandsAfter, took.length).slice(0, 25);
  const perMatchOf = (after: number, before: number) => fmt((after - before) / Math.max(1, took.length), 1);
  console.log(`\nRedis per dispatch.match run: ${perMatchOf(totalsAfter.reads, totalsBefore.reads)} round trips read (a pipeline or a batch of auto-pipelined commands counts once), ${perMatchOf(totalsAfter.commands, totalsBefore.commands)} commands, ${perMatchOf(totalsAfter.inputBytes, totalsBefore.inputBytes)} bytes in`);
  console.log(`Redis AOF rewrites (forks) over the phase: ${totalsAfter.forks - totalsBefore.forks}; the append-only file ${fmt(totalsBefore.aofBytes / 1e6)} → ${fmt(totalsAfter.aofBytes / 1e6)} MB`);
  console.log(`\nRedis commands over the measured phase and drain, per dispatch.match run (${fmt(took.length)}), most time first:\n${commands.map((c) => `${c.command.padEnd(22)} ${fmt(c.calls).padStart(9)} calls ${c.callsPer.toFixed(2).padStart(7)}/match ${fmt(c.usecPer, 1).padStart(7)} µs/match`).join('\n')}`);
  if (scriptTimes) console.log(`\nRedis Lua script runs of 20 µs or more over the measured phase and drain (BENCH_REDIS_SCRIPTS=1; slow log: the script's own run, not the round trip), per dispatch.match run:\n${scriptTimes.map((t) => `${t.name.padEnd(34)} ${fmt(t.calls).padStart(8)} runs ${(t.calls / Math.max(1, took.length)).toFixed(2).padStart(6)}/match ${fmt(t.usec / Math.max(1, took.length), 1).padStart(7)} µs/match`).join('\n')}`);
  if (problems.length > 0) console.log(`\nwarnings and errors from the processes (first 20):\n${problems.join('\n')}`);
  console.log(`load average at the end (1/5 min): ${os.loadavg().slice(0, 2).map((n) => n.toFixed(1)).join(' / ')}`);
  console.log(`worker RSS ${fmt(await workers.rssMb())} MB, API RSS ${fmt(await api.rssMb())} MB`);
} catch (err) {
  console.error(err, problems.join('\n'));
  process.exitCode = 1;
} finally {
  await fresh?.stop();
  await Promise.all([api.stop(), workers.stop()]);
  await services.stop();
}
// A connection left open must never keep the benchmark (and the shared bench lock) alive.
process.exit(process.exitCode ?? 0);
