/** What a simulation counts, and how it reports: a live line while it runs, a summary at the end. Pure. */

export interface SimStats {
  startedAt: number;
  requests: number;
  /** Responses that were not 2xx, and failed requests (`network`), by status. */
  errors: Record<string, number>;
  /** A uniform sample of request latencies (reservoir of {@link LATENCY_SAMPLE}). */
  latenciesMs: number[];
  points: number;
  orders: { placed: number; accepted: number; rejected: number; ready: number; pickedUp: number; delivered: number; cancelled: number };
  offers: { seen: number; accepted: number; rejected: number; ignored: number; lost: number };
  /** Placed → delivered, ms, per delivered order. */
  deliveryMs: number[];
}

export const LATENCY_SAMPLE = 20_000;

/** Keeps a uniform sample of every latency seen, so long runs stay small (reservoir sampling). */
export function recordLatency(stats: SimStats, ms: number, random: () => number): void {
  stats.requests += 1;
  if (stats.latenciesMs.length < LATENCY_SAMPLE) stats.latenciesMs.push(ms);
  else {
    const slot = Math.floor(random() * stats.requests);
    if (slot < LATENCY_SAMPLE) stats.latenciesMs[slot] = ms;
  }
}

export type RiderPhase = 'idle' | 'to-restaurant' | 'at-restaurant' | 'to-customer';

export function newStats(now: number): SimStats {
  return {
    startedAt: now,
    requests: 0,
    errors: {},
    latenciesMs: [],
    points: 0,
    orders: { placed: 0, accepted: 0, rejected: 0, ready: 0, pickedUp: 0, delivered: 0, cancelled: 0 },
    offers: { seen: 0, accepted: 0, rejected: 0, ignored: 0, lost: 0 },
    deliveryMs: [],
  };
}

/** The q-quantile (0–1) by nearest rank; 0 for no values. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** `02:05` */
export function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

const n = (v: number) => v.toLocaleString('en-US');
const errorCount = (stats: SimStats) => Object.values(stats.errors).reduce((a, b) => a + b, 0);

/** One line, rewritten in place every second. */
export function progressLine(stats: SimStats, phases: Readonly<Record<RiderPhase, number>>, now: number, durationMs: number): string {
  const elapsed = now - stats.startedAt;
  const riders = Object.values(phases).reduce((a, b) => a + b, 0);
  const o = stats.orders;
  const f = stats.offers;
  const rate = elapsed > 0 ? (stats.requests / elapsed) * 1000 : 0;
  return [
    `${clock(elapsed)}/${clock(durationMs)}`,
    `riders ${riders} (idle ${phases.idle}, pickup ${phases['to-restaurant'] + phases['at-restaurant']}, delivering ${phases['to-customer']})`,
    `orders ${n(o.placed)} placed, ${n(o.delivered)} delivered`,
    `offers ${n(f.seen)} (${n(f.accepted)} accepted, ${n(f.rejected)} rejected, ${n(f.ignored)} timed out)`,
    `${n(stats.points)} points`,
    `${rate.toFixed(0)} req/s, p95 ${quantile(stats.latenciesMs, 0.95).toFixed(0)} ms`,
    `errors ${n(errorCount(stats))}`,
  ].join(' · ');
}

/** The report printed when the run ends. */
export function summary(stats: SimStats, now: number, leftOpen: number): string {
  const elapsed = now - stats.startedAt;
  const o = stats.orders;
  const f = stats.offers;
  const errors = Object.entries(stats.errors)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, count]) => `${code} × ${n(count)}`)
    .join(', ');
  const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;
  return [
    `simulated ${clock(elapsed)}`,
    `orders     ${n(o.placed)} placed · ${n(o.accepted)} accepted by restaurants · ${n(o.rejected)} rejected · ${n(o.pickedUp)} picked up · ${n(o.delivered)} delivered · ${n(leftOpen)} still open at the end (cancelled)`,
    `offers     ${n(f.seen)} seen · ${n(f.accepted)} accepted · ${n(f.rejected)} rejected · ${n(f.ignored)} left to time out · ${n(f.lost)} lost to a race`,
    `delivery   median ${minutes(quantile(stats.deliveryMs, 0.5))} · p95 ${minutes(quantile(stats.deliveryMs, 0.95))} from placing to delivered`,
    `locations  ${n(stats.points)} points posted`,
    `http       ${n(stats.requests)} requests (${elapsed > 0 ? ((stats.requests / elapsed) * 1000).toFixed(1) : '0'}/s) · p50 ${quantile(stats.latenciesMs, 0.5).toFixed(0)} ms · p95 ${quantile(stats.latenciesMs, 0.95).toFixed(0)} ms · p99 ${quantile(stats.latenciesMs, 0.99).toFixed(0)} ms`,
    `errors     ${errors || 'none'}`,
  ].join('\n');
}
