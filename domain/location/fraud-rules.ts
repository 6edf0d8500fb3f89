import { haversineMeters } from './geo.ts';
import type { LocationPoint } from './point.ts';

/**
 * GPS fraud rules (seed 001: "물리적으로 불가능한 속도(예: 1초에 5km 이동)" and GPS 조작 must be
 * caught at once). Pure: the caller brings the rider's recent points and stores what comes back.
 *
 * Order: points are merged with what is already known and sorted by recordedAt, and every pair
 * of neighbours in time that touches a new point is judged, including the pair a new point forms
 * with a known successor. So a batch gives the same findings whatever its internal order, and a
 * trace split into batches never misses a finding of the whole trace. It adds none either, as
 * long as no batch lands inside a gap whose two ends are already known: the pair that bridged
 * such a gap was judged before the gap was filled, and if one end is an anomaly (a spike, a
 * jump) the other end keeps a finding that the whole trace would not give it. Findings are
 * never withdrawn, so this errs towards alerting. 'backwards-timestamp' depends on delivery on
 * purpose (it is about the phone's clock), and 'future-timestamp' on `receivedAt`.
 */

export const FRAUD_RULES = [
  'impossible-speed',
  'teleport',
  'future-timestamp',
  'backwards-timestamp',
  'mocked-location',
  'poor-accuracy',
  'frozen-coordinates',
] as const;

export type FraudRule = (typeof FRAUD_RULES)[number];
export type FraudSeverity = 'info' | 'warning' | 'critical';

/** How each rule is treated. `flags`: the offending point leaves the settlement route. */
export const FRAUD_RULE_POLICY: Readonly<Record<FraudRule, { severity: FraudSeverity; alert: boolean; flags: boolean }>> = {
  'impossible-speed': { severity: 'critical', alert: true, flags: true },
  teleport: { severity: 'critical', alert: true, flags: true },
  'future-timestamp': { severity: 'warning', alert: true, flags: true },
  'backwards-timestamp': { severity: 'warning', alert: true, flags: false },
  'mocked-location': { severity: 'critical', alert: true, flags: true },
  'poor-accuracy': { severity: 'info', alert: false, flags: false },
  // Alerts once per run: only the fix that makes the run long enough (see frozenRepeats).
  'frozen-coordinates': { severity: 'warning', alert: true, flags: true },
};

export interface FraudFinding {
  rule: FraudRule;
  severity: FraudSeverity;
  riderId: string;
  /** The offending point. (riderId, rule, recordedAt) is the finding's identity: store it under a unique key. */
  recordedAt: number;
  /** Oldest first: the point alone, the pair ending at it, or the last `frozenRepeats` fixes of a frozen run. */
  evidence: LocationPoint[];
  /** For people, e.g. "5.0 km in 1.0 s = 18,000 km/h (limit 120 km/h)". */
  detail: string;
  /** Ops should be told. False for info findings and for the later fixes of a frozen run. */
  alert: boolean;
}

export interface FraudThresholds {
  /** Fastest believable speed between two consecutive fixes, km/h. Default 120. */
  maxSpeedKmh: number;
  /**
   * An over-speed pair that covers at least this distance within `teleportWindowMs` is reported
   * as 'teleport' (the phone jumped: spoofing or a bad fix) instead of 'impossible-speed'. Default 2000.
   */
  teleportMeters: number;
  /** Default 10_000 ms. */
  teleportWindowMs: number;
  /** A fix recorded more than this after the server received it is from the future. Default 30_000 ms. */
  futureSkewMs: number;
  /**
   * A new fix older than the newest fix already known (in `previous`) by more than this is
   * 'backwards-timestamp': the phone's clock went back. Within it, the batch simply arrived
   * late, which networks do. Default 60_000 ms.
   */
  backwardsToleranceMs: number;
  /**
   * Accuracy radius above which a fix is 'poor-accuracy' (info only). Also the most a fix's
   * accuracy may excuse: the speed check subtracts both fixes' radii, each capped at this,
   * from the distance, so GPS jitter between close fixes is not speeding. Default 100 m.
   */
  poorAccuracyMeters: number;
  /** This many exactly identical fixes in a row, each repeat reporting speed > frozenMinSpeed, is 'frozen-coordinates'. Default 3. */
  frozenRepeats: number;
  /** m/s. Default 1: a rider waiting at a restaurant reports about 0 and is not frozen. */
  frozenMinSpeed: number;
}

export const DEFAULT_FRAUD_THRESHOLDS: Readonly<FraudThresholds> = Object.freeze({
  maxSpeedKmh: 120,
  teleportMeters: 2_000,
  teleportWindowMs: 10_000,
  futureSkewMs: 30_000,
  backwardsToleranceMs: 60_000,
  poorAccuracyMeters: 100,
  frozenRepeats: 3,
  frozenMinSpeed: 1,
});

export interface TrackInput {
  /** The rider's already known recent points, any order. Should reach back at least `backwardsToleranceMs` and `frozenRepeats` fixes. */
  previous: readonly LocationPoint[];
  /** The new batch, any order. A recordedAt already known (or repeated in the batch) is a duplicate: the first copy wins. */
  incoming: readonly LocationPoint[];
  /** Server time the batch arrived, epoch ms. */
  receivedAt: number;
  thresholds?: Partial<FraudThresholds>;
}

/**
 * The findings the incoming points cause, sorted by (recordedAt, rule) and unique by
 * (rule, recordedAt). A finding about a known point is returned again only when its evidence
 * includes a new point, e.g. a new fix landing just before it.
 *
 * Fixes whose time cannot be trusted now (future ones, and new ones caught going backwards)
 * are left out of the speed and frozen checks, which would otherwise blame their neighbours.
 */
export function evaluateTrack(input: TrackInput): FraudFinding[] {
  const t: FraudThresholds = { ...DEFAULT_FRAUD_THRESHOLDS, ...input.thresholds };
  const known = new Map<number, LocationPoint>();
  for (const p of input.previous) if (!known.has(p.recordedAt)) known.set(p.recordedAt, p);
  const isFuture = (p: LocationPoint) => p.recordedAt > input.receivedAt + t.futureSkewMs;
  let newest: LocationPoint | undefined;
  for (const p of known.values()) if (!isFuture(p) && (!newest || p.recordedAt > newest.recordedAt)) newest = p;

  const fresh = new Set<number>();
  for (const p of input.incoming) {
    if (known.has(p.recordedAt)) continue;
    known.set(p.recordedAt, p);
    fresh.add(p.recordedAt);
  }
  assertOneRider(known.values());

  const findings: FraudFinding[] = [];
  const untimely = new Set<number>();
  for (const at of fresh) {
    const p = known.get(at)!;
    if (isFuture(p)) {
      untimely.add(at);
      findings.push(finding('future-timestamp', p, [p], `recorded ${seconds(at - input.receivedAt)} after it was received (allowed ${seconds(t.futureSkewMs)})`));
    } else if (newest && at < newest.recordedAt - t.backwardsToleranceMs) {
      untimely.add(at);
      const behind = seconds(newest.recordedAt - at);
      findings.push(finding('backwards-timestamp', p, [p, newest], `recorded ${behind} before the newest known fix (allowed ${seconds(t.backwardsToleranceMs)})`));
    }
    if (p.mocked) findings.push(finding('mocked-location', p, [p], 'the phone reports a mock location provider'));
    if (p.accuracy !== null && p.accuracy > t.poorAccuracyMeters) {
      findings.push(finding('poor-accuracy', p, [p], `accuracy ${Math.round(p.accuracy)} m (worse than ${t.poorAccuracyMeters} m)`));
    }
  }

  const timeline = [...known.values()].filter((p) => !untimely.has(p.recordedAt) && !isFuture(p)).sort((a, b) => a.recordedAt - b.recordedAt);
  for (let i = 1; i < timeline.length; i++) {
    const q = timeline[i - 1]!;
    const p = timeline[i]!;
    if (!fresh.has(q.recordedAt) && !fresh.has(p.recordedAt)) continue;
    const over = checkPair(q, p, t);
    if (over) findings.push(over);
  }
  for (const f of frozenRuns(timeline, t)) if (f.evidence.some((e) => fresh.has(e.recordedAt))) findings.push(f);

  const unique = new Map<string, FraudFinding>();
  for (const f of findings) unique.set(`${f.rule}@${f.recordedAt}`, f);
  return [...unique.values()].sort((a, b) => a.recordedAt - b.recordedAt || FRAUD_RULES.indexOf(a.rule) - FRAUD_RULES.indexOf(b.rule));
}

/** recordedAt of the points that settlement must leave out of one rider's route. */
export function flaggedPoints(findings: readonly FraudFinding[]): Set<number> {
  return new Set(findings.filter((f) => FRAUD_RULE_POLICY[f.rule].flags).map((f) => f.recordedAt));
}

/** The later point of an over-speed pair is the offender: it is where the phone claims to have got to. */
function checkPair(q: LocationPoint, p: LocationPoint, t: FraudThresholds): FraudFinding | undefined {
  const meters = haversineMeters(q, p);
  const ms = p.recordedAt - q.recordedAt;
  const jitter = slack(q, t) + slack(p, t);
  if ((Math.max(0, meters - jitter) / ms) * 3_600 <= t.maxSpeedKmh) return undefined;
  const rule: FraudRule = meters >= t.teleportMeters && ms <= t.teleportWindowMs ? 'teleport' : 'impossible-speed';
  return finding(rule, p, [q, p], `${distance(meters)} in ${seconds(ms)} = ${kmh((meters / ms) * 3_600)} (limit ${t.maxSpeedKmh} km/h)`);
}

function slack(p: LocationPoint, t: FraudThresholds): number {
  return p.accuracy === null ? 0 : Math.min(Math.max(0, p.accuracy), t.poorAccuracyMeters);
}

/** Every fix from the `frozenRepeats`-th of a run of identical positions on; only that first one alerts. */
function frozenRuns(timeline: readonly LocationPoint[], t: FraudThresholds): FraudFinding[] {
  const out: FraudFinding[] = [];
  const need = Math.max(2, t.frozenRepeats);
  let runStart = 0;
  for (let i = 0; i < timeline.length; i++) {
    const p = timeline[i]!;
    const q = timeline[i - 1];
    const repeats = q !== undefined && q.lat === p.lat && q.lng === p.lng && (p.speed ?? 0) > t.frozenMinSpeed;
    if (!repeats) runStart = i;
    const length = i - runStart + 1;
    if (length < need) continue;
    const evidence = timeline.slice(i - need + 1, i + 1);
    const span = p.recordedAt - evidence[0]!.recordedAt;
    const detail = `${need} identical fixes at ${p.lat.toFixed(5)}, ${p.lng.toFixed(5)} over ${seconds(span)} while the phone reports ${kmh((p.speed ?? 0) * 3.6)}`;
    out.push({ ...finding('frozen-coordinates', p, evidence, detail), alert: length === need });
  }
  return out;
}

function finding(rule: FraudRule, p: LocationPoint, evidence: LocationPoint[], detail: string): FraudFinding {
  const { severity, alert } = FRAUD_RULE_POLICY[rule];
  const sorted = [...evidence].sort((a, b) => a.recordedAt - b.recordedAt);
  return { rule, severity, riderId: p.riderId, recordedAt: p.recordedAt, evidence: sorted, detail, alert };
}

function assertOneRider(points: Iterable<LocationPoint>): void {
  let riderId: string | undefined;
  for (const p of points) {
    riderId ??= p.riderId;
    if (p.riderId !== riderId) throw new RangeError(`evaluateTrack takes one rider's points, got ${riderId} and ${p.riderId}`);
  }
}

const distance = (m: number) => (m >= 1_000 ? `${(m / 1_000).toFixed(1)} km` : `${Math.round(m)} m`);
const seconds = (ms: number) => `${(ms / 1_000).toFixed(1)} s`;
const kmh = (v: number) => `${Math.round(v).toLocaleString('en-US')} km/h`;
