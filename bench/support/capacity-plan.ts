/**
 * The capacity plan of docs/capacity.md as pure arithmetic over measured figures: each input
 * names the bench and figure it comes from, each output shows its formula beside its number.
 * Seed 000's 필수 계산 항목 (인프라 규모 산정) and its peak; seed 001's 50,000 updates/s.
 */
import { findResult, formatNumber, type BenchResult } from './results.ts';

/** The load a plan is sized for (from the seeds). */
export interface Scenario {
  name: string;
  locationUpdatesPerSec: number;
  trackingReadsPerSec: number;
  /** Order API requests per second (placing, reading and changing orders). */
  orderTps: number;
  /** Orders placed per second at the peak (seed 000: 100,000 a minute). */
  ordersPlacedPerSec: number;
  matchesPerSec: number;
  riders: number;
  concurrentUsers: number;
  trackers: number;
  ordersPerDay: number;
}

export const SEED_000: Scenario = { name: 'seed 000 peak', locationUpdatesPerSec: 20_000, trackingReadsPerSec: 100_000, orderTps: 10_000, ordersPlacedPerSec: 100_000 / 60, matchesPerSec: 5_000, riders: 50_000, concurrentUsers: 1_000_000, trackers: 500_000, ordersPerDay: 5_000_000 };
/** Seed 001: a fix every 3 s at 50,000 updates/s (150,000 riders); the rest as seed 000. */
export const SEED_001: Scenario = { ...SEED_000, name: 'seed 001 (50k updates/s)', locationUpdatesPerSec: 50_000, riders: 150_000 };

/** Planning assumptions, stated in the document. */
export const ASSUMPTIONS = {
  /** CPU a server is planned to use at peak: the rest is headroom for spikes, GC and failover. */
  targetUtilization: 0.6,
  coresPerServer: 8,
  /** Points per location.batch job: the API's group commit joins up to 20 requests (location/ingest.ts). */
  pointsPerLocationJob: 20,
  /** Notifications per order: accepted, cooking, picked up, delivering, arriving, delivered. */
  notificationsPerOrder: 6,
  /** Seconds of queued work Redis must hold if workers stall briefly. */
  backlogSeconds: 10,
  /** Offer timeout (seed 000: 15 s to accept or reject). */
  offerSeconds: 15,
  /** Scheduled gifts outstanding at once. */
  scheduledGifts: 1_000_000,
  /** Redis memory headroom: fragmentation, replication and AOF-rewrite buffers. */
  redisHeadroom: 2,
  pageBytes: 8_192,
  /** WAL writes about as many bytes as the tables and indexes they change. */
  walFactor: 1,
};

/** One measured input: where it comes from and its value. */
export interface Input {
  key: string;
  what: string;
  bench: string;
  metric: string;
  value: number;
  unit: string;
  at: string;
}

/** Where each input of the plan is looked up, first match wins (a bench run on its own, then the suite's fallbacks). */
export const INPUT_SOURCES: Record<string, { what: string; sources: Array<[bench: string, metric: string, field?: 'baseline']> }> = {
  ingestApiUs: { what: 'API CPU per single-point location request', sources: [['ingest', 'api-cpu-per-request'], ['scale', 'ingest-1-api-us']] },
  locationWorkerUs: { what: 'location worker CPU per point (live state, history COPY, fraud rules)', sources: [['scale', 'ingest-1-worker-us']] },
  trackingApiUs: { what: 'API CPU per tracking read', sources: [['tracking', 'api-cpu-per-request']] },
  orderApiUs: { what: 'API CPU per order placed', sources: [['orders', 'api-cpu-per-order']] },
  orderWorkerUs: { what: 'orders worker CPU per order (outbox relay)', sources: [['orders', 'worker-cpu-per-order']] },
  dispatchWorkerUs: { what: 'orders + dispatch worker CPU per dispatched order', sources: [['scale', 'dispatch-1-worker-us'], ['dispatch', 'worker-cpu-per-dispatch']] },
  dispatchApiUs: { what: 'API CPU per restaurant acceptance (starts a dispatch)', sources: [['scale', 'dispatch-1-api-us']] },
  dispatchP99: { what: 'dispatch request → first offer p99', sources: [['scale', 'dispatch-1-p99'], ['dispatch', 'offer-p99']] },
  notificationJobsPerSec: { what: 'notification jobs/s drained by one worker process', sources: [['notifications', 'throughput']] },
  rawBullmqJobsPerSec: { what: 'raw BullMQ empty jobs/s through one Redis (the notifications baseline)', sources: [['notifications', 'throughput', 'baseline']] },
  redisRider: { what: 'Redis bytes per rider (position, geo, presence, fleet index)', sources: [['memory', 'redis-rider']] },
  redisOrderTracking: { what: 'Redis bytes per tracked order (status, rider, 20-point route)', sources: [['memory', 'redis-order-tracking']] },
  redisTrack: { what: 'Redis bytes per rider recent track (10 min)', sources: [['memory', 'redis-rider-track']] },
  redisLocationJob: { what: 'Redis bytes per queued location.batch job (20 points)', sources: [['memory', 'redis-location-job-20']] },
  redisNotificationJob: { what: 'Redis bytes per queued notification job', sources: [['memory', 'redis-notification-job']] },
  redisOfferJob: { what: 'Redis bytes per delayed offer-timeout job', sources: [['memory', 'redis-offer-timeout-job']] },
  redisGift: { what: 'Redis bytes per scheduled gift', sources: [['memory', 'redis-gift']] },
  pgRawPoint: { what: 'Postgres bytes per raw location point', sources: [['memory', 'pg-raw-point']] },
  pgRollup: { what: 'Postgres bytes per minute rollup row', sources: [['memory', 'pg-rollup']] },
  pgRoute: { what: 'Postgres bytes per delivery route row', sources: [['memory', 'pg-route']] },
  pgOrder: { what: 'Postgres bytes per order (row, items, events, outbox)', sources: [['memory', 'pg-order']] },
};

/** Resolves every input from the results; missing ones are listed, not guessed. */
export function resolveInputs(results: BenchResult[]): { inputs: Record<string, Input>; missing: string[] } {
  const inputs: Record<string, Input> = {};
  const missing: string[] = [];
  for (const [key, spec] of Object.entries(INPUT_SOURCES)) {
    // A source may name the in-run baseline of a figure instead of the figure itself.
    const found = spec.sources
      .map(([b, m, field]) => {
        const r = findResult(results, b, m);
        return r && (field === 'baseline' ? { ...r, metric: `${m} (baseline)`, value: r.baseline ?? NaN } : r);
      })
      .find((r) => r !== undefined && Number.isFinite(r.value) && r.value > 0);
    if (found) inputs[key] = { key, what: spec.what, bench: found.bench, metric: found.metric, value: found.value, unit: found.unit, at: found.at };
    else missing.push(key);
  }
  return { inputs, missing };
}

/** Cores needed to do `perSec` operations costing `us` CPU-µs each at the target utilization. */
export function coresFor(perSec: number, us: number, utilization = ASSUMPTIONS.targetUtilization): number {
  return (perSec * us) / 1e6 / utilization;
}

/** Whole servers of `coresPerServer` cores, at least one. */
export function serversFor(cores: number, coresPerServer = ASSUMPTIONS.coresPerServer): number {
  return Math.max(1, Math.ceil(cores / coresPerServer - 1e-9));
}

const GB = 1e9;
const TB = 1e12;

/** One line of the plan: what, the formula with the numbers put in, and the result. */
export interface PlanLine {
  item: string;
  formula: string;
  result: string;
  /** Input keys the line used. */
  uses: string[];
}

/** The plan for one scenario; lines whose inputs are missing say so instead of a number. */
export function planLines(s: Scenario, inputs: Record<string, Input>): PlanLine[] {
  const A = ASSUMPTIONS;
  const v = (k: string) => inputs[k]?.value;
  const n = formatNumber;
  const lines: PlanLine[] = [];
  const add = (item: string, uses: string[], make: () => { formula: string; result: string }) => {
    const absent = uses.filter((k) => v(k) === undefined);
    lines.push(absent.length ? { item, formula: `not measured: ${absent.join(', ')}`, result: '—', uses } : { item, uses, ...make() });
  };
  const util = `${A.targetUtilization * 100}%`;

  // 위치 데이터 처리 서버: the ingest API and the location workers.
  add('위치 데이터 처리 — ingest API cores', ['ingestApiUs'], () => {
    const c = coresFor(s.locationUpdatesPerSec, v('ingestApiUs')!);
    return { formula: `${n(s.locationUpdatesPerSec)}/s × ${n(v('ingestApiUs')!)} µs ÷ ${util}`, result: `${n(c)} cores` };
  });
  add('위치 데이터 처리 — location worker cores', ['locationWorkerUs'], () => {
    const c = coresFor(s.locationUpdatesPerSec, v('locationWorkerUs')!);
    return { formula: `${n(s.locationUpdatesPerSec)}/s × ${n(v('locationWorkerUs')!)} µs ÷ ${util}`, result: `${n(c)} cores` };
  });
  add('**위치 데이터 처리 서버 대수**', ['ingestApiUs', 'locationWorkerUs'], () => {
    const c = coresFor(s.locationUpdatesPerSec, v('ingestApiUs')! + v('locationWorkerUs')!);
    return { formula: `⌈${n(s.locationUpdatesPerSec)}/s × (${n(v('ingestApiUs')!)} + ${n(v('locationWorkerUs')!)}) µs ÷ ${util} ÷ ${A.coresPerServer} cores⌉`, result: `**${serversFor(c)} servers** (${n(c)} cores)` };
  });
  // 매칭 엔진 서버.
  add('**매칭 엔진 서버 대수**', ['dispatchWorkerUs'], () => {
    const c = coresFor(s.matchesPerSec, v('dispatchWorkerUs')!);
    return { formula: `⌈${n(s.matchesPerSec)}/s × ${n(v('dispatchWorkerUs')!)} µs ÷ ${util} ÷ ${A.coresPerServer}⌉`, result: `**${serversFor(c)} servers** (${n(c)} cores)` };
  });
  // API 서버: tracking reads, orders, acceptances (location ingest counted above).
  add('API — tracking read cores', ['trackingApiUs'], () => ({ formula: `${n(s.trackingReadsPerSec)}/s × ${n(v('trackingApiUs')!)} µs ÷ ${util}`, result: `${n(coresFor(s.trackingReadsPerSec, v('trackingApiUs')!))} cores` }));
  add('API — order cores', ['orderApiUs'], () => ({ formula: `${n(s.orderTps)}/s × ${n(v('orderApiUs')!)} µs ÷ ${util}`, result: `${n(coresFor(s.orderTps, v('orderApiUs')!))} cores` }));
  add('API — acceptance cores (each starts a match)', ['dispatchApiUs'], () => ({ formula: `${n(s.matchesPerSec)}/s × ${n(v('dispatchApiUs')!)} µs ÷ ${util}`, result: `${n(coresFor(s.matchesPerSec, v('dispatchApiUs')!))} cores` }));
  add('**API 서버 대수** (excluding location ingest)', ['trackingApiUs', 'orderApiUs', 'dispatchApiUs'], () => {
    const c = coresFor(s.trackingReadsPerSec, v('trackingApiUs')!) + coresFor(s.orderTps, v('orderApiUs')!) + coresFor(s.matchesPerSec, v('dispatchApiUs')!);
    return { formula: `⌈(tracking + order + acceptance cores) ÷ ${A.coresPerServer}⌉ = ⌈${n(c)} ÷ ${A.coresPerServer}⌉`, result: `**${serversFor(c)} servers** (${n(c)} cores)` };
  });
  add('orders worker (outbox relay) cores', ['orderWorkerUs'], () => ({ formula: `${n(s.ordersPlacedPerSec)} orders placed/s × ${n(v('orderWorkerUs')!)} µs ÷ ${util}`, result: `${n(coresFor(s.ordersPlacedPerSec, v('orderWorkerUs')!))} cores` }));

  // 데이터베이스 용량 및 IOPS.
  add('DB — raw points, 24 h', ['pgRawPoint'], () => ({ formula: `${n(s.locationUpdatesPerSec)}/s × 86,400 s × ${n(v('pgRawPoint')!)} B`, result: `${n((s.locationUpdatesPerSec * 86_400 * v('pgRawPoint')!) / GB)} GB` }));
  add('DB — minute rollups, 7 days', ['pgRollup'], () => ({ formula: `${n(s.riders)} riders × 1,440 min × 7 d × ${n(v('pgRollup')!)} B (every rider active every minute: upper bound)`, result: `${n((s.riders * 1_440 * 7 * v('pgRollup')!) / GB)} GB` }));
  add('DB — delivery routes, per year (kept forever)', ['pgRoute'], () => ({ formula: `${n(s.ordersPerDay)}/day × 365 × ${n(v('pgRoute')!)} B`, result: `${n((s.ordersPerDay * 365 * v('pgRoute')!) / TB)} TB/year` }));
  add('DB — orders, per year (kept forever)', ['pgOrder'], () => ({ formula: `${n(s.ordersPerDay)}/day × 365 × ${n(v('pgOrder')!)} B`, result: `${n((s.ordersPerDay * 365 * v('pgOrder')!) / TB)} TB/year` }));
  add('**DB write volume at peak**', ['pgRawPoint', 'pgOrder'], () => {
    const bytes = s.locationUpdatesPerSec * v('pgRawPoint')! + s.orderTps * v('pgOrder')!;
    return { formula: `${n(s.locationUpdatesPerSec)}/s × ${n(v('pgRawPoint')!)} B + ${n(s.orderTps)}/s × ${n(v('pgOrder')!)} B`, result: `**${n(bytes / 1e6)} MB/s**` };
  });
  add('**DB write IOPS at peak**', ['pgRawPoint', 'pgOrder'], () => {
    const bytes = s.locationUpdatesPerSec * v('pgRawPoint')! + s.orderTps * v('pgOrder')!;
    const pages = ((1 + A.walFactor) * bytes) / A.pageBytes;
    const commits = s.locationUpdatesPerSec / A.pointsPerLocationJob + s.orderTps;
    return { formula: `(1 + WAL ${A.walFactor}) × ${n(bytes / 1e6)} MB/s ÷ 8 KiB + commits (${n(s.locationUpdatesPerSec)}/${A.pointsPerLocationJob} COPY jobs + ${n(s.orderTps)} orders)/s, before group commit merges fsyncs`, result: `**${n(pages + commits)} IOPS**` };
  });

  // Redis 메모리.
  const locationJobs = s.locationUpdatesPerSec / A.pointsPerLocationJob;
  const notifications = s.ordersPlacedPerSec * A.notificationsPerOrder;
  add('Redis — riders (live state + 10-min track)', ['redisRider', 'redisTrack'], () => ({ formula: `${n(s.riders)} × (${n(v('redisRider')!)} + ${n(v('redisTrack')!)}) B`, result: `${n((s.riders * (v('redisRider')! + v('redisTrack')!)) / GB)} GB` }));
  add('Redis — tracking state, one order per tracker', ['redisOrderTracking'], () => ({ formula: `${n(s.trackers)} tracked orders × ${n(v('redisOrderTracking')!)} B`, result: `${n((s.trackers * v('redisOrderTracking')!) / GB)} GB` }));
  add(`Redis — ${A.backlogSeconds} s of location jobs`, ['redisLocationJob'], () => ({ formula: `${n(locationJobs)} jobs/s × ${A.backlogSeconds} s × ${n(v('redisLocationJob')!)} B`, result: `${n((locationJobs * A.backlogSeconds * v('redisLocationJob')!) / GB)} GB` }));
  add(`Redis — ${A.backlogSeconds} s of notification jobs`, ['redisNotificationJob'], () => ({ formula: `${n(s.ordersPlacedPerSec)} orders placed/s × ${A.notificationsPerOrder} × ${A.backlogSeconds} s × ${n(v('redisNotificationJob')!)} B`, result: `${n((notifications * A.backlogSeconds * v('redisNotificationJob')!) / GB)} GB` }));
  add('Redis — pending offer timeouts', ['redisOfferJob'], () => ({ formula: `${n(s.matchesPerSec)}/s × ${A.offerSeconds} s × ${n(v('redisOfferJob')!)} B`, result: `${n((s.matchesPerSec * A.offerSeconds * v('redisOfferJob')!) / GB)} GB` }));
  add('Redis — scheduled gifts', ['redisGift'], () => ({ formula: `${n(A.scheduledGifts)} × ${n(v('redisGift')!)} B`, result: `${n((A.scheduledGifts * v('redisGift')!) / GB)} GB` }));
  add('**Redis 메모리 용량**', ['redisRider', 'redisTrack', 'redisOrderTracking', 'redisLocationJob', 'redisNotificationJob', 'redisOfferJob', 'redisGift'], () => {
    const total =
      s.riders * (v('redisRider')! + v('redisTrack')!) +
      s.trackers * v('redisOrderTracking')! +
      locationJobs * A.backlogSeconds * v('redisLocationJob')! +
      notifications * A.backlogSeconds * v('redisNotificationJob')! +
      s.matchesPerSec * A.offerSeconds * v('redisOfferJob')! +
      A.scheduledGifts * v('redisGift')!;
    return { formula: `(sum of the lines above = ${n(total / GB)} GB) × ${A.redisHeadroom} headroom`, result: `**${n((total * A.redisHeadroom) / GB)} GB**` };
  });

  // 메시지 큐 처리량.
  const jobs = locationJobs + s.matchesPerSec * 2 + notifications;
  add('**메시지 큐 처리량** (jobs/s)', [], () => ({ formula: `location ${n(locationJobs)} + dispatch.match ${n(s.matchesPerSec)} + offer timeouts ${n(s.matchesPerSec)} + notifications ${n(s.ordersPlacedPerSec)} orders placed/s × ${A.notificationsPerOrder}`, result: `**${n(jobs)} jobs/s**` }));
  add('notification worker cores', ['notificationJobsPerSec'], () => ({ formula: `${n(notifications)} jobs/s ÷ ${n(v('notificationJobsPerSec')!)} jobs/s per worker process (≈ 1 core) ÷ ${util}`, result: `${n(notifications / v('notificationJobsPerSec')! / A.targetUtilization)} cores` }));
  add('**Other worker servers** (order relay + notifications)', ['orderWorkerUs', 'notificationJobsPerSec'], () => {
    const c = coresFor(s.ordersPlacedPerSec, v('orderWorkerUs')!) + notifications / v('notificationJobsPerSec')! / A.targetUtilization;
    return { formula: `⌈(${n(s.ordersPlacedPerSec)} orders placed/s × ${n(v('orderWorkerUs')!)} µs ÷ ${util} + notification cores) ÷ ${A.coresPerServer}⌉`, result: `**${serversFor(c)} servers** (${n(c)} cores)` };
  });
  add('Redis shards for the queues (errs high: the measured rate was bound by a worker sharing 2 loaded cores, not by Redis)', ['rawBullmqJobsPerSec'], () => ({ formula: `${n(jobs)} jobs/s ÷ ${n(v('rawBullmqJobsPerSec')!)} empty jobs/s measured through one Redis ÷ ${util}`, result: `${n(Math.ceil(jobs / v('rawBullmqJobsPerSec')! / A.targetUtilization))} shards` }));
  return lines;
}

export function planMarkdown(lines: PlanLine[]): string {
  return ['| item | formula | result |', '|---|---|---|', ...lines.map((l) => `| ${l.item} | ${l.formula} | ${l.result} |`)].join('\n');
}

export function inputsMarkdown(inputs: Record<string, Input>, missing: string[]): string {
  const rows = Object.values(inputs).map((i) => `| ${i.key} | ${i.what} | ${formatNumber(i.value)} ${i.unit} | bench/${i.bench}.ts, \`${i.metric}\` | ${i.at.slice(0, 16).replace('T', ' ')} |`);
  for (const key of missing) rows.push(`| ${key} | ${INPUT_SOURCES[key]!.what} | **not measured** | ${INPUT_SOURCES[key]!.sources.map(([b, m]) => `bench/${b}.ts \`${m}\``).join(' or ')} | |`);
  return ['| input | what | measured | from | recorded (UTC) |', '|---|---|---|---|---|', ...rows].join('\n');
}
